"""The void register (作废登记), drafts that can be voided, officers at start, and corrections (更正)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core import inspections as svc
from core.corrections import approve_correction, corrected_by, correction_of, request_correction
from core.errors import InvalidInput, RecordLocked, WorkflowError
from core.printing import print_form
from core.verification import make_payload, verify_payload
from core.void_register import list_voided, print_voided, void_draft
from tests.integration.helpers import officer_passwords, answer_all, sign_all, signed_inspection
from tests.integration.pdfcheck import pdf_text


# --- drafts: officers at start, voiding -----------------------------------------------------------

def test_an_enforcement_inspection_cannot_start_without_two_officers(ctx, subject, officers):
    before = svc.list_inspections(ctx)
    for chosen in ([], officers[:1], [svc.OfficerData("", "")]):
        with pytest.raises(InvalidInput, match="至少需要2名执法人员"):
            svc.start_inspection(ctx, subject.id, "cosmetics-531", chosen)
    assert svc.list_inspections(ctx) == before  # nothing started, no number taken
    routine = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers[:1], kind="routine")
    assert svc.load_inspection(ctx, routine).kind == "routine"
    assert svc.load_inspection(ctx, routine).number.endswith("〕1号")


def test_officers_of_a_draft_can_be_changed_but_not_below_two(ctx, subject, officers):
    draft = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    svc.set_officers(ctx, draft, [officers[0], svc.OfficerData("赵敏", "41170021006")])
    assert [o.name for o in svc.load_inspection(ctx, draft).officers] == ["王建国", "赵敏"]
    with pytest.raises(InvalidInput, match="至少需要2名"):
        svc.set_officers(ctx, draft, officers[:1])
    assert len(svc.load_inspection(ctx, draft).officers) == 2


def test_a_voided_draft_keeps_its_record_and_enters_its_numbers_in_the_register(ctx, subject, officers):
    draft = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, draft, {"B2": "无备案信息"})
    svc.complete_inspection(ctx, draft)  # issues a 责令改正通知书 number too
    record = svc.load_inspection(ctx, draft)
    assert record.rectification is not None
    with pytest.raises(InvalidInput, match="请填写作废原因"):
        void_draft(ctx, draft, "  ")
    assert list_voided(ctx) == []
    numbers = void_draft(ctx, draft, "当事人已注销，误开检查")
    assert numbers == [record.number, record.rectification.number]
    rows = list_voided(ctx)
    assert [(r.number, r.doc_kind, r.reason, r.voided_by) for r in rows] == [
        (record.number, "inspection", "当事人已注销，误开检查", "系统"),
        (record.rectification.number, "rectification", "当事人已注销，误开检查", "系统")]
    voided = svc.load_inspection(ctx, draft)
    assert voided.status == "voided" and voided.read_only
    assert voided.answer("B2").note == "无备案信息"  # nothing the user entered is lost
    with pytest.raises(WorkflowError, match="已作废"):
        svc.set_answer(ctx, draft, "B2", "pass")
    with pytest.raises(WorkflowError, match="已作废"):
        void_draft(ctx, draft, "再次作废")
    with pytest.raises(InvalidInput, match="已作废，不能打印"):
        print_form(ctx, draft, "record", Path(ctx.engine.url.database).parent / "voided.pdf")
    # audit-logged: the register's entries and the status change are in the record's history
    from core.audit import record_history

    history = record_history(ctx, draft)
    assert sum(1 for h in history if h.table == "voided_numbers" and h.action == "insert") == 2
    assert any(h.table == "inspections" and h.after.get("status") == "voided" for h in history)
    # a new inspection never takes a voided number
    again = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    assert svc.load_inspection(ctx, again).number not in numbers


def test_a_signed_record_cannot_be_voided(ctx, subject, officers):
    signed = signed_inspection(ctx, subject.id, officers)
    with pytest.raises(RecordLocked):
        void_draft(ctx, signed, "想作废")
    assert list_voided(ctx) == []


def test_an_order_dropped_on_reopening_is_entered_in_the_register(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {"B2": "无备案信息"})
    svc.complete_inspection(ctx, inspection_id)
    order = svc.load_inspection(ctx, inspection_id).rectification.number
    svc.set_answer(ctx, inspection_id, "B2", "pass")  # reopens it
    svc.complete_inspection(ctx, inspection_id)
    assert svc.load_inspection(ctx, inspection_id).rectification is None
    [row] = list_voided(ctx)
    assert (row.number, row.doc_kind, row.inspection_id) == (order, "rectification", inspection_id)
    assert "已无应责令改正" in row.reason


def test_the_void_register_prints_as_a_table(ctx, subject, officers, tmp_path):
    for reason in ("误选监管对象", "重复开立"):
        void_draft(ctx, svc.start_inspection(ctx, subject.id, "cosmetics-531", officers), reason)
    out = print_voided(ctx, tmp_path / "voided.pdf")
    text = pdf_text(out)
    assert "文书编号作废登记表" in text and "误选监管对象" in text and "重复开立" in text
    rows = list_voided(ctx)
    assert len(rows) == 2
    assert all(r.number in text for r in rows)
    assert "共 2 个编号" in text


def test_voiding_a_task_inspection_opens_the_task_again(ctx, subject, officers):
    from datetime import date

    from core.tasks import list_tasks, record_event, start_task

    record_event(ctx, subject.id, "complaint", date.today(), source_ref="T-1")
    [task] = [t for t in list_tasks(ctx, subject_id=subject.id) if t.status == "open"]
    inspection_id = start_task(ctx, task.id, officers)
    void_draft(ctx, inspection_id, "开错了检查表")
    [again] = [t for t in list_tasks(ctx, subject_id=subject.id) if t.id == task.id]
    assert again.status == "open"
    assert start_task(ctx, task.id, officers) != inspection_id


# --- corrections -------------------------------------------------------------------------------

def _correct(ctx, original: str) -> str:
    correction = request_correction(ctx, original, statement="第 B2 项说明由“1批次”更正为“2批次”",
                                    reason="现场记录笔误，经核对进货单据")
    svc.set_note(ctx, correction, "B2", "2批次无备案信息")
    svc.complete_inspection(ctx, correction)
    return correction


def _log_in(ctx, role: str):
    from core.users import add_user, list_users

    add_user(ctx, name=f"测试{role}", role=role, password="secret-123", cert_no="41170029001" if role == "inspector" else "")
    return next(u for u in list_users(ctx) if u.name == f"测试{role}")


def test_a_correction_is_a_new_record_that_needs_the_admins_approval(ctx, subject, officers, tmp_path):
    original = signed_inspection(ctx, subject.id, officers)
    before = svc.load_inspection(ctx, original)
    with pytest.raises(InvalidInput, match="更正原因"):
        request_correction(ctx, original, statement="更正", reason="")
    correction = _correct(ctx, original)
    record = svc.load_inspection(ctx, correction)
    assert record.number != before.number and record.status == "completed"
    assert record.answer("B2").note == "2批次无备案信息" and record.signatures == {}
    assert [o.name for o in record.officers] == [o.name for o in before.officers]
    info = correction_of(ctx, correction)
    assert (info.original_number, info.approved) == (before.number, False)
    # a second correction while one is open is refused
    with pytest.raises(WorkflowError, match="已有未完成的更正"):
        request_correction(ctx, original, statement="再更正", reason="又错了")
    # signed again, but only once the admin approved it
    svc.set_legal(ctx, correction, confirmation=svc.DEFAULT_CONFIRMATION)
    for role in svc.signature_roles(record):
        svc.add_signature(ctx, correction, role, "签名人", _png())
    with pytest.raises(WorkflowError, match="须经站所管理员批准"):
        svc.sign_inspection(ctx, correction, officer_passwords(ctx, correction))
    inspector = _log_in(ctx, "inspector")
    admin = _log_in(ctx, "admin")
    ctx.user = inspector
    from core.users import PermissionDenied

    with pytest.raises(PermissionDenied, match="无权批准更正"):
        approve_correction(ctx, correction)
    assert not correction_of(ctx, correction).approved
    ctx.user = admin
    approve_correction(ctx, correction)
    assert correction_of(ctx, correction).approved_by == admin.name
    ctx.user = inspector
    svc.sign_inspection(ctx, correction, officer_passwords(ctx, correction))
    ctx.user = None
    # the original is unchanged, and both verify; the original's answer names its correction
    after = svc.load_inspection(ctx, original)
    assert (after.content_hash, after.current_hash(), after.status) == (before.content_hash, before.content_hash, "signed")
    verdict = verify_payload(ctx, make_payload(after, "record"))
    assert verdict.ok and verdict.message.startswith(f"已更正，见 {record.number}")
    signed_correction = svc.load_inspection(ctx, correction)
    own = verify_payload(ctx, make_payload(signed_correction, "record"))
    assert own.ok and "已更正" not in own.message and record.number in own.message
    assert corrected_by(ctx, original).number == record.number
    # both print with their own numbers; the correction's box names the original and the statement
    first = pdf_text(print_form(ctx, correction, "record", tmp_path / "correction.pdf"))
    assert f"本文书更正原 {before.number}" in first and "2批次" in first and f"经{admin.name}" in first
    assert record.number in first
    plain = pdf_text(print_form(ctx, original, "record", tmp_path / "original.pdf"))
    assert "更正" not in plain and before.number in plain
    # both stay in the audit trail
    from core.audit import record_history, verify_chain

    assert len(record_history(ctx, original)) >= 1
    trail = record_history(ctx, correction)
    assert {"inspections", "corrections", "signatures"} <= {h.table for h in trail}
    assert any(h.table == "corrections" and h.after.get("approved_by") == admin.name for h in trail)
    assert verify_chain(ctx).ok


def test_an_edit_after_approval_needs_approval_again(ctx, subject, officers):
    correction = _correct(ctx, signed_inspection(ctx, subject.id, officers))
    approve_correction(ctx, correction)
    svc.update_details(ctx, correction, party_statement="对更正无异议")
    sign_ready = svc.load_inspection(ctx, correction)
    svc.set_legal(ctx, correction, confirmation=svc.DEFAULT_CONFIRMATION)
    for role in svc.signature_roles(sign_ready):
        svc.add_signature(ctx, correction, role, "签名人", _png())
    with pytest.raises(WorkflowError, match="重新批准"):
        svc.sign_inspection(ctx, correction, officer_passwords(ctx, correction))
    approve_correction(ctx, correction)
    svc.sign_inspection(ctx, correction, officer_passwords(ctx, correction))  # signatures do not undo the approval
    assert svc.load_inspection(ctx, correction).status == "signed"


def test_only_signed_records_are_corrected_and_the_link_locks_with_the_correction(ctx, subject, officers):
    draft = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    with pytest.raises(WorkflowError, match="直接修改即可"):
        request_correction(ctx, draft, statement="更正", reason="笔误")
    with pytest.raises(WorkflowError, match="请先完成"):
        approve_correction(ctx, request_correction(
            ctx, signed_inspection(ctx, subject.id, officers), statement="更正", reason="笔误"))
    original = signed_inspection(ctx, subject.id, officers)
    correction = _correct(ctx, original)
    approve_correction(ctx, correction)
    sign_all(ctx, correction)
    from db.models import Correction

    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.scalar(select(Correction).where(Correction.inspection_id == correction)).statement = "改过"
    assert correction_of(ctx, correction).statement.startswith("第 B2 项")
    with pytest.raises(WorkflowError, match="已更正，见"):
        request_correction(ctx, original, statement="再更正", reason="又错了")


def _png() -> bytes:
    from tests.integration.helpers import signature_png

    return signature_png()


# --- sync: the register and the correction link travel to the station -------------------------------

def test_a_laptops_voided_numbers_and_correction_reach_the_station(ctx, subject, officers, tmp_path):
    from core import sync
    from core.numbering import parse_number
    from tests.integration.helpers import register_officers
    from tests.integration.test_sync import enrolled_laptop, inspect_offline, pull_master_data

    register_officers(ctx)
    laptop, _ = enrolled_laptop(ctx, tmp_path, "笔记本1")
    try:
        pull_master_data(ctx, laptop, tmp_path / "down")
        assert laptop.setting("device_no") != "0"
        draft = svc.start_inspection(laptop, subject.id, "cosmetics-531", officers)
        void_draft(laptop, draft, "误开检查")
        original = inspect_offline(laptop, subject.id, officers, tmp_path)
        correction = _correct(laptop, original)
        approve_correction(laptop, correction)
        sign_all(laptop, correction)
        numbers = {svc.load_inspection(laptop, i).number for i in (draft, original, correction)}
        assert {parse_number(n).device_no for n in numbers} == {int(laptop.setting("device_no"))}
        assert all("-" in n for n in numbers)  # the laptop's sub-number: 〔2026〕1-0001号
        (tmp_path / "up").mkdir()
        packages = sync.export_packages(laptop, tmp_path / "up")
    finally:
        laptop.close()
    assert len(packages) >= 1
    for package in packages:
        sync.import_package(ctx, package)
    [row] = list_voided(ctx)
    assert (row.inspection_id, row.reason) == (draft, "误开检查")
    assert svc.load_inspection(ctx, draft).status == "voided"
    info = correction_of(ctx, correction)
    assert info.original_id == original and info.approved and info.status == "signed"
    verdict = verify_payload(ctx, make_payload(svc.load_inspection(ctx, original), "record"))
    assert verdict.ok and verdict.message.startswith(f"已更正，见 {info.number}")


def test_incoming_void_and_correction_rows_are_validated():
    from core.sync import validate

    base = {"id": "01a23147-3ff7-7f7e-b0fd-1272f38319a5", "created_at": "2026-01-02T03:04:05",
            "updated_at": "2026-01-02T03:04:05", "version": 1, "device_id": "5e75452a-4932-4f2d-b0ad-f413facb4019"}
    good = {**base, "number": "P〔2026〕1-0001号", "doc_kind": "inspection",
            "inspection_id": "01a23147-3ff7-7f7e-b0fd-1272f38319a6", "reason": "误开", "voided_by": "王建国",
            "voided_at": "2026-01-02T03:04:05"}
    validate.check_records("p.zip", "voided_numbers", [good])
    for bad, needle in (({"doc_kind": "order"}, "不在允许范围内"), ({"inspection_id": "x"}, "inspection_id"),
                        ({"reason": "x" * 20_001}, "超过")):
        with pytest.raises(InvalidInput, match=needle):
            validate.check_records("p.zip", "voided_numbers", [{**good, **bad}])
    link = {**base, "inspection_id": "01a23147-3ff7-7f7e-b0fd-1272f38319a6",
            "original_id": "01a23147-3ff7-7f7e-b0fd-1272f38319a7", "original_number": "P〔2026〕1号",
            "statement": "更正", "reason": "笔误", "requested_by": "王建国", "approved_by": "",
            "approved_at": None, "approved_hash": ""}
    validate.check_records("p.zip", "corrections", [link])
    with pytest.raises(InvalidInput, match="original_id"):
        validate.check_records("p.zip", "corrections", [{**link, "original_id": None}])
