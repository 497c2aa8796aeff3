"""询问笔录 and 送达回证 travel laptop → station like the other records, and are hostile until checked.

A laptop signs an inspection, a 询问笔录 and a 送达回证 and voids a draft 询问笔录; the station
imports the package and holds the same rows (the QR of the 询问笔录 verifies there, the void
register has the number). A package whose document was changed after signing, or whose JSON is
malformed, is refused whole (signed with the laptop's genuine key: what refuses it is the
document check). A document signed at the station is never overwritten by a laptop's version.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text as sql

from core import service_receipts as sr
from core import sync
from core import questioning as q
from core.errors import InvalidInput, RecordLocked
from core.sync.writer import write_zip_atomically
from core.verification import make_payload, verify_payload
from core.void_register import list_voided, void_questioning
from tests.integration.helpers import register_officers, signed_inspection
from tests.integration.test_questioning import filled, sign_everyone
from tests.integration.test_sync import enrolled_laptop, pull_master_data
from tests.security.digest import database_digest
from tests.security.test_sync_input import members_of, put_records, records, signed_manifest


@pytest.fixture
def world(ctx, subject, officers, tmp_path):
    register_officers(ctx)
    laptop, enrolment = enrolled_laptop(ctx, tmp_path, "笔记本1")
    pull_master_data(ctx, laptop, tmp_path / "down")
    inspection_id = signed_inspection(laptop, subject.id, officers)
    qid = filled(laptop, inspection_id)
    sign_everyone(laptop, qid)
    draft = filled(laptop, inspection_id, questions=1)
    void_questioning(laptop, draft, "被询问人身份填错，重新制作")
    receipt = sr.record_service(laptop, inspection_id, method=sr.LEFT, recipient="张三", place="驿城区测试路1号",
                                refusal_reason="拒绝签字", witness_name="王社区", witness_unit="测试社区居委会",
                                media_ref="执法记录仪 DSJ-01 文件 20260512_0931.mp4")
    up = tmp_path / "up"
    up.mkdir()
    [package] = sync.export_packages(laptop, up)
    yield {"station": ctx, "laptop": laptop, "key": enrolment["device_private_key"], "package": package,
           "inspection_id": inspection_id, "qid": qid, "draft": draft, "receipt": receipt, "tmp": tmp_path}
    laptop.close()


def forged(world, name: str, table: str, fn) -> object:
    """The laptop's package with ``fn(rows)`` applied to ``table``, re-listed and re-signed with its key."""
    manifest, members = members_of(world["package"])
    rows = records(members, table)
    fn(rows)
    put_records(members, table, rows)
    manifest_bytes, signature = signed_manifest(manifest, members, world["key"])
    target = world["tmp"] / name
    write_zip_atomically(target, manifest_bytes, signature, members)
    return target


def refused(world, package, needle: str) -> None:
    station = world["station"]
    db = station.engine.url.database
    before = database_digest(db)
    with pytest.raises(InvalidInput) as caught:
        sync.import_package(station, package)
    message = caught.value.message
    assert needle in message and "\n" not in message, message
    assert database_digest(db) == before


def test_questionings_and_receipts_round_trip_laptop_to_station(world):
    station = world["station"]
    summary = sync.import_package(station, world["package"])
    assert summary.conflicts == 0 and summary.applied > 0
    arrived = q.load_questioning(station, world["qid"])
    there = q.load_questioning(world["laptop"], world["qid"])
    assert arrived == there and arrived.locked and arrived.current_hash() == arrived.content_hash
    assert len(arrived.qa) == 3 and arrived.signatures.keys() == there.signatures.keys()
    assert verify_payload(station, make_payload(arrived, q.FORM)).ok
    voided = q.load_questioning(station, world["draft"])
    assert voided.status == "voided"
    entries = [v for v in list_voided(station) if v.doc_kind == "questioning"]
    assert len(entries) == 1 and entries[0].number == voided.number and "重新制作" in entries[0].reason
    receipt = sr.load_receipt(station, world["receipt"].id)
    assert receipt == world["receipt"] and receipt.locked and receipt.current_hash() == receipt.content_hash
    assert receipt.content["witness_name"] == "王社区"
    # the lock holds at the station too, in the ORM and in the database
    with pytest.raises(RecordLocked):
        q.add_qa(station, world["qid"], "再问", "不行")
    with pytest.raises(RecordLocked):
        with station.engine.begin() as conn:
            conn.execute(sql("DELETE FROM service_receipts WHERE id=:i"), {"i": receipt.id})
    # the same package again changes nothing
    assert sync.import_package(station, world["package"]).already_imported


def test_a_questioning_changed_after_signing_is_refused(world):
    def change(rows):
        row = next(r for r in rows if r["id"] == world["qid"])
        content = json.loads(row["content_json"])
        content["qa"][0]["a"] = "我没说过这句话"
        row["content_json"] = json.dumps(content, ensure_ascii=False)
    refused(world, forged(world, "q.zip", "questionings", change), "内容摘要与文书内容不符")


def test_a_receipt_changed_after_signing_is_refused(world):
    def change(rows):
        content = json.loads(rows[0]["content_json"])
        content["witness_name"] = "另一个人"
        rows[0]["content_json"] = json.dumps(content, ensure_ascii=False)
    refused(world, forged(world, "r.zip", "service_receipts", change), "内容摘要与文书内容不符")


@pytest.mark.parametrize("field, value, needle", [
    ("qa", [{"q": "问", "a": 12}], "content_json.qa[0].a"),
    ("qa", "不是数组", "content_json.qa"),
    ("person", {"name": "李", "password": "x"}, "content_json.person.password"),
    ("details", {"started_at": "昨天"}, "content_json.details.started_at"),
    ("officers", [["王建国"]], "content_json.officers[0]"),
])
def test_a_malformed_questioning_is_refused(world, field, value, needle):
    def change(rows):
        row = next(r for r in rows if r["id"] == world["draft"])
        content = json.loads(row["content_json"])
        content[field] = value
        row["content_json"] = json.dumps(content, ensure_ascii=False)
    refused(world, forged(world, "bad.zip", "questionings", change), needle)


@pytest.mark.parametrize("edit, needle", [
    (lambda r: r.__setitem__("signatures_json", '{"person": {"name": "x", "signed_at": null, "png": "AAAA"}}'),
     "不是 PNG 图像"),
    (lambda r: r.__setitem__("signatures_json", '{"boss": {}}'), "不是询问笔录的签名位置"),
    (lambda r: r.__setitem__("content_json", '{"qa": NaN}'), "content_json"),
    (lambda r: r.__setitem__("content_json", "{"), "不是有效的 JSON"),
    (lambda r: r.__setitem__("status", "approved"), "status"),
])
def test_hostile_document_fields_are_refused(world, edit, needle):
    def change(rows):
        edit(next(r for r in rows if r["id"] == world["qid"]))
    refused(world, forged(world, "hostile.zip", "questionings", change), needle)


def test_a_receipt_with_an_unknown_method_is_refused(world):
    def change(rows):
        content = json.loads(rows[0]["content_json"])
        content["method"] = "托人带话"
        rows[0]["content_json"] = json.dumps(content, ensure_ascii=False)
    refused(world, forged(world, "m.zip", "service_receipts", change), "content_json.method")


def test_a_questioning_signed_here_is_never_overwritten(world):
    """A laptop's later version of a questioning signed at the station becomes a conflict, not a change."""
    station = world["station"]
    sync.import_package(station, world["package"])
    pull_master_data(station, world["laptop"], world["tmp"] / "down2")
    # the laptop's package is already imported (same batch): send it as the next batch
    manifest, members = members_of(world["package"])
    rows = records(members, "questionings")
    signed_row = next(r for r in rows if r["id"] == world["qid"])
    content = json.loads(signed_row["content_json"])
    content["qa"].append({"q": "追加", "a": "追加"})
    signed_row["content_json"], signed_row["version"] = json.dumps(content, ensure_ascii=False), signed_row["version"] + 5
    signed_row["status"] = "draft"  # a draft again: needs no proof, but must not replace the signed row
    put_records(members, "questionings", rows)
    manifest["seq"] = int(manifest["seq"]) + 1
    manifest_bytes, signature = signed_manifest(manifest, members, world["key"])
    target = world["tmp"] / "next.zip"
    write_zip_atomically(target, manifest_bytes, signature, members)
    summary = sync.import_package(station, target)
    assert summary.conflicts >= 1
    kept = q.load_questioning(station, world["qid"])
    assert kept.locked and len(kept.qa) == 3 and kept.current_hash() == kept.content_hash
    conflicts = [c for c in sync.list_conflicts(station) if c.record_id == world["qid"]]
    assert len(conflicts) == 1
    with pytest.raises(RecordLocked):
        sync.resolve_conflict(station, conflicts[0].id, "remote")
    assert sync.resolve_conflict(station, conflicts[0].id, "local").version is None  # a signed row stays as it is
    assert q.load_questioning(station, world["qid"]) == kept


@pytest.fixture
def case_world(ctx, subject, officers, tmp_path):
    from core.casework import evidence

    register_officers(ctx)
    laptop, enrolment = enrolled_laptop(ctx, tmp_path, "笔记本1")
    pull_master_data(ctx, laptop, tmp_path / "down")
    inspection_id = signed_inspection(laptop, subject.id, officers)
    hold = evidence.hold_evidence(laptop, inspection_id, cause="经营未备案的化妆品", place="仓库", approved_by="所长王",
                                  items=[{"name": "保湿乳", "spec": "50ml", "batch": "2026", "quantity": "3瓶",
                                          "kept_at": "仓库"}])
    release = evidence.release_evidence(laptop, hold.id, reason="已备案")
    address = evidence.confirm_address(laptop, inspection_id, recipient="张三", address="测试路1号", phone="13800000000")
    up = tmp_path / "up"
    up.mkdir()
    [package] = sync.export_packages(laptop, up)
    yield {"station": ctx, "laptop": laptop, "key": enrolment["device_private_key"], "package": package,
           "docs": [hold, release, address], "tmp": tmp_path}
    laptop.close()


def test_case_papers_round_trip_and_verify_at_the_station(case_world):
    from core.casework.store import load_case_document

    station = case_world["station"]
    assert sync.import_package(station, case_world["package"]).conflicts == 0
    for doc in case_world["docs"]:
        arrived = load_case_document(station, doc.id)
        assert arrived == doc and arrived.locked and arrived.current_hash() == arrived.content_hash
        assert verify_payload(station, make_payload(arrived, arrived.kind)).ok
    assert len(case_world["docs"]) == 3


def test_a_case_paper_changed_after_issuing_is_refused(case_world):
    def change(rows):
        row = next(r for r in rows if r["kind"] == "evidence_hold")
        content = json.loads(row["content_json"])
        content["items"][0]["quantity"] = "1瓶"
        row["content_json"] = json.dumps(content, ensure_ascii=False)
    refused(case_world, forged(case_world, "c.zip", "case_documents", change), "内容摘要与文书内容不符")


def test_a_case_paper_with_a_non_finite_number_or_unknown_kind_is_refused(case_world):
    def nan(rows):
        rows[0]["content_json"] = '{"items": [{"quantity": Infinity}]}'
    refused(case_world, forged(case_world, "n.zip", "case_documents", nan), "非有限数值")

    def kind(rows):
        rows[0]["kind"] = "arrest_warrant"
    refused(case_world, forged(case_world, "k.zip", "case_documents", kind), "kind")
