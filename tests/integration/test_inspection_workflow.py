"""The workflow draft → completed → signed, the lock, the hash, photos and signatures."""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import sqlite3
from datetime import date

import pytest

from core.attachments import read_attachment
from core import inspections as svc
from core.errors import InvalidInput, NotFound, RecordLocked, WorkflowError
from db.models import Inspection, ItemResult
from tests.integration.helpers import officer_passwords, answer_all, signature_png, signed_inspection


def test_start_takes_a_number_and_snapshots_template_and_party(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    record = svc.load_inspection(ctx, inspection_id)
    assert record.number == "示市监药检〔2026〕1号" or record.number.endswith("〕1号")
    assert record.status == "draft"
    assert record.party["name"] == subject.name
    assert record.template.code == "cosmetics-531" and record.template.version == 3
    assert [o.name for o in record.officers] == ["王建国", "李秀英"]


def test_every_answer_is_saved_at_once(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    svc.set_answer(ctx, inspection_id, "A1", "fail")
    svc.set_note(ctx, inspection_id, "A1", "营业执照过期")
    with ctx.sessions() as s:
        row = s.query(ItemResult).filter_by(inspection_id=inspection_id, item_code="A1").one()
        assert (row.result, row.note) == ("fail", "营业执照过期")


def test_unknown_item_and_result_are_refused(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    with pytest.raises(InvalidInput):
        svc.set_answer(ctx, inspection_id, "Z99", "pass")
    with pytest.raises(InvalidInput):
        svc.set_answer(ctx, inspection_id, "A1", "maybe")


def test_completion_needs_all_answers_notes_and_two_officers(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    with ctx.transaction() as s:  # a draft of an older version, started with one officer
        from db.models import Inspection

        draft = s.get(Inspection, inspection_id)
        draft.officers.pop()
    with pytest.raises(WorkflowError) as exc:
        svc.complete_inspection(ctx, inspection_id)
    assert "未检查" in exc.value.message and "两名执法人员" in exc.value.message
    answer_all(ctx, inspection_id, {"A1": ""})
    svc.set_officers(ctx, inspection_id, officers)
    with pytest.raises(WorkflowError, match="必须填写说明"):
        svc.complete_inspection(ctx, inspection_id)
    svc.set_note(ctx, inspection_id, "A1", "营业执照过期")
    record = svc.complete_inspection(ctx, inspection_id)
    assert record.status == "completed"
    assert "营业执照" in record.findings
    assert record.rectification is not None and record.rectification.status == "open"
    assert record.rectification.deadline > record.started_at.date()


def test_officer_without_certificate_blocks_enforcement_completion(ctx, subject):
    inspection_id = svc.start_inspection(
        ctx, subject.id, "cosmetics-531", [svc.OfficerData("甲", "1"), svc.OfficerData("乙", "")]
    )
    answer_all(ctx, inspection_id, {})
    with pytest.raises(WorkflowError, match="执法证号"):
        svc.complete_inspection(ctx, inspection_id)


def test_no_failures_means_no_rectification(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {})
    record = svc.complete_inspection(ctx, inspection_id)
    assert record.rectification is None
    assert "未发现不符合项" in record.findings


def test_changing_an_answer_reopens_a_completed_record(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {"A1": "过期"})
    svc.complete_inspection(ctx, inspection_id)
    svc.set_answer(ctx, inspection_id, "A1", "pass")
    record = svc.load_inspection(ctx, inspection_id)
    assert record.status == "draft"
    record = svc.complete_inspection(ctx, inspection_id)
    assert record.rectification is None


def test_signing_needs_every_signature(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {})
    svc.complete_inspection(ctx, inspection_id)
    svc.add_signature(ctx, inspection_id, "party", "张三", signature_png())
    with pytest.raises(WorkflowError, match="还缺少签名"):
        svc.sign_inspection(ctx, inspection_id, officer_passwords(ctx, inspection_id))


def test_refusal_needs_a_witness(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers, refused=True)
    record = svc.load_inspection(ctx, inspection_id)
    assert record.party_refused and "witness" in record.signatures and "party" not in record.signatures


def test_signed_record_refuses_every_service(ctx, subject, officers, tmp_path):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    photo = tmp_path / "p.png"
    photo.write_bytes(signature_png())
    for call in (
        lambda: svc.set_answer(ctx, inspection_id, "A1", "fail"),
        lambda: svc.set_note(ctx, inspection_id, "A1", "x"),
        lambda: svc.update_details(ctx, inspection_id, findings="改了"),
        lambda: svc.add_photo(ctx, inspection_id, "A1", photo),
        lambda: svc.add_signature(ctx, inspection_id, "party", "x", signature_png()),
        lambda: svc.set_officers(ctx, inspection_id, officers[:1]),
        lambda: svc.set_rectification(ctx, inspection_id, deadline=date(2030, 1, 1), requirements="x"),
        lambda: svc.reopen_inspection(ctx, inspection_id),
    ):
        with pytest.raises(RecordLocked):
            call()


def test_lock_holds_below_the_services(ctx, subject, officers):
    """Any flush through any session is refused, not only the service functions."""
    inspection_id = signed_inspection(ctx, subject.id, officers)
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.get(Inspection, inspection_id).findings = "偷偷改"
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            row = s.query(ItemResult).filter_by(inspection_id=inspection_id, item_code="A1").one()
            row.result = "fail"
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.delete(s.query(ItemResult).filter_by(inspection_id=inspection_id).first())
    record = svc.load_inspection(ctx, inspection_id)
    assert record.current_hash() == record.content_hash


def test_rectification_may_still_be_closed_after_signing(ctx, subject, officers):
    from db.models import Rectification

    inspection_id = signed_inspection(ctx, subject.id, officers)
    with ctx.transaction() as s:
        s.query(Rectification).filter_by(inspection_id=inspection_id).one().status = "closed"
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.query(Rectification).filter_by(inspection_id=inspection_id).one().requirements = "x"


def test_content_hash_is_stable_and_sensitive(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    record = svc.load_inspection(ctx, inspection_id)
    assert record.content_hash == svc.content_hash(record) == svc.content_hash(svc.load_inspection(ctx, inspection_id))
    assert len(record.content_hash) == 64
    import dataclasses

    for change in (
        {"findings": record.findings + "。"},
        {"party": {**record.party, "address": "别处"}},
        {"answers": {**record.answers, "A1": svc.Answer("fail", "x")}},
        {"officers": record.officers[:1]},
    ):
        assert svc.content_hash(dataclasses.replace(record, **change)) != record.content_hash


def test_later_register_edit_does_not_change_the_signed_record(ctx, subject, officers):
    from core.subjects import SubjectData, update_subject

    inspection_id = signed_inspection(ctx, subject.id, officers)
    update_subject(ctx, subject.id, SubjectData(name="改名后的店", category="cosmetics_operator",
                                                credit_code=subject.credit_code))
    record = svc.load_inspection(ctx, inspection_id)
    assert record.party["name"] == subject.name
    assert record.current_hash() == record.content_hash


def test_template_change_does_not_change_recorded_inspection(ctx, subject, officers):
    import json

    inspection_id = signed_inspection(ctx, subject.id, officers)
    changed = json.loads(svc.load_inspection(ctx, inspection_id).template_json)
    changed["sections"][0]["items"][0]["text"] = "新版文字"
    fresh = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers,
                                 templates={"cosmetics-531": __import__("core.checklists").checklists.parse_template(changed)})
    assert svc.load_inspection(ctx, fresh).template.items[0].text == "新版文字"
    assert svc.load_inspection(ctx, inspection_id).template.items[0].text != "新版文字"


def test_photos_are_stored_by_hash_and_non_images_refused(ctx, subject, officers, tmp_path):
    from PIL import Image

    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    big = tmp_path / "货架.jpg"
    Image.new("RGB", (4000, 3000), (200, 120, 40)).save(big, quality=90)
    photo = svc.add_photo(ctx, inspection_id, "B2", big)
    assert read_attachment(ctx, photo.path) == big.read_bytes()  # kept whole
    assert photo.path.name.startswith(photo.sha256)
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    with pytest.raises(InvalidInput, match="不是可识别的图片"):
        svc.add_photo(ctx, inspection_id, "B2", text)
    assert len(svc.load_inspection(ctx, inspection_id).photos) == 1


def test_wrong_id_is_not_found(ctx):
    with pytest.raises(NotFound):
        svc.load_inspection(ctx, "no-such-id")


def test_database_is_wal_with_foreign_keys(ctx, subject, officers):
    svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    with ctx.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    path = ctx.engine.url.database
    raw = rawdb.connect(path)
    assert raw.execute("SELECT count(*) FROM inspections").fetchone()[0] == 1
    raw.close()


def test_advisory_item_is_advised_not_ordered(ctx, subject, officers):
    """H1 (sales ledger) is a local working requirement: no 责令改正 rests on it."""
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {"H1": "未建立销售台账"})
    record = svc.complete_inspection(ctx, inspection_id)
    assert [f.item.code for f in record.failed_items()] == ["H1"]
    assert record.order_items() == [] and record.rectification is None
    assert "建议" in record.findings
    answer_all(ctx, inspection_id, {"H1": "未建立销售台账", "B2": "无备案"})
    record = svc.complete_inspection(ctx, inspection_id)
    assert [f.item.code for f in record.order_items()] == ["B2"]
    assert "销售" not in record.rectification.requirements
