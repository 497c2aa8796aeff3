"""Deletions that travel (docs/sync-format.md "Tombstones"), on SQLite and on a real PostgreSQL station.

A tombstone down (station → laptop) and up (laptop → station), never echoed back; a delete
against an edit kept as a conflict on both sides and resolved by a person; a signed record
refusing a tombstone (the whole package refused, nothing changed) and refusing a local delete.
"""
from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import inspections as svc
from core import sync
from core.audit import verify_chain
from core.context import AppContext
from core.deletions import delete_subject, delete_task
from core.errors import InvalidInput, RecordLocked, WorkflowError
from core.signing import sign
from core.subjects import SubjectData, add_subject, get_subject, update_subject
from core.tasks import list_tasks, record_event
from core.sync.writer import write_zip_atomically
from db.models import AuditEntry, Photo, Subject, SyncConflict, SyncTombstone, TaskReason
from tests.conftest import OFFICERS_DATA
from tests.integration.helpers import answer_all, register_officers, sign_all
from tests.integration.test_sync import dump, photo_file

SHOP = dict(category="cosmetics_operator", legal_rep="张三", address="驻马店市驿城区测试路1号",
            phone="13800000000", grid="测试社区")


@pytest.fixture(params=["sqlite", "postgresql"])
def station(request, tmp_path):
    if request.param == "postgresql":
        db = request.getfixturevalue("pg_server").create_database()
    else:
        db = str(tmp_path / "station.db")
    ctx = AppContext.open(db, attachments_dir=tmp_path / "station-attachments")
    register_officers(ctx)
    yield ctx
    ctx.close()


@pytest.fixture
def laptop(station, tmp_path):
    data = sync.add_device(station, "笔记本1")
    ctx = AppContext.open(tmp_path / "laptop.db")
    sync.enrol_device(ctx, data)
    ctx.enrolment = data
    yield ctx
    ctx.close()


def exchange(source: AppContext, target: AppContext, folder: Path) -> sync.ImportSummary:
    """``source`` exports for ``target``; ``target`` imports it (USB stick)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = sync.export_packages(source, folder, peer=target.device_id)
    return sync.import_packages(target, paths)


def tombstones_in(path: Path) -> list[dict]:
    with zipfile.ZipFile(path) as zf:
        if "tombstones.jsonl" not in zf.namelist():
            return []
        return [json.loads(line) for line in zf.read("tombstones.jsonl").decode().splitlines() if line]


def count(ctx: AppContext, model, **where) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_tombstones_down_and_up(station, laptop, tmp_path):
    real = add_subject(station, SubjectData(name="驿城区测试化妆品店", **SHOP))
    mistaken = add_subject(station, SubjectData(name="驿城区测试化妆品店（重复录入）", **SHOP))
    record_event(station, real.id, "complaint", date(2026, 11, 20), details="投诉")
    [task] = list_tasks(station)
    exchange(station, laptop, tmp_path / "d1")
    assert get_subject(laptop, mistaken.id).name.endswith("（重复录入）")
    assert [t.id for t in list_tasks(laptop)] == [task.id]
    assert count(laptop, TaskReason, task_id=task.id) == 1

    # down: the station deletes a mistaken subject and withdraws a task nobody started
    delete_subject(station, mistaken.id)
    delete_task(station, task.id)
    folder = tmp_path / "d2"
    folder.mkdir()
    [package] = sync.export_packages(station, folder, peer=laptop.device_id)
    sent = {(t["table"], t["id"]) for t in tombstones_in(package)}
    assert ("subjects", mistaken.id) in sent and ("inspection_tasks", task.id) in sent
    assert len(sent) == 3  # the subject, the task and its one reason
    summary = sync.import_package(laptop, package)
    assert summary.applied == 3 and summary.conflicts == 0
    assert count(laptop, Subject, id=mistaken.id) == 0 and list_tasks(laptop) == []
    assert count(laptop, TaskReason, task_id=task.id) == 0
    assert get_subject(laptop, real.id).name == "驿城区测试化妆品店"
    with laptop.sessions() as s:
        kept = s.get(SyncTombstone, ("subjects", mistaken.id))
        deletions = s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "delete")).all()
    assert kept is not None and kept.origin == station.device_id
    assert len(deletions) == 3 and all(a.startswith("同步:") for a in deletions)
    assert verify_chain(laptop).ok

    # up: the laptop removes a photo from a draft the station already has
    draft = svc.start_inspection(laptop, real.id, "cosmetics-531", [svc.OfficerData(n, c) for n, c in OFFICERS_DATA])
    photo = svc.add_photo(laptop, draft, "B2", photo_file(tmp_path))
    folder = tmp_path / "u1"
    folder.mkdir()
    [up] = sync.export_packages(laptop, folder)
    assert tombstones_in(up) == []  # the station's deletions are not echoed back to it
    sync.import_package(station, up)
    assert count(station, Photo, id=photo.id) == 1
    svc.remove_photo(laptop, draft, photo.id)
    summary = exchange(laptop, station, tmp_path / "u2")
    assert count(station, Photo, id=photo.id) == 0
    assert summary.conflicts == 0
    with station.sessions() as s:
        assert s.get(SyncTombstone, ("photos", photo.id)).origin == laptop.device_id
    folder = tmp_path / "d3"
    folder.mkdir()
    [back] = sync.export_packages(station, folder, peer=laptop.device_id)
    assert tombstones_in(back) == []
    assert verify_chain(station).ok and verify_chain(laptop).ok


def test_photo_removed_then_signed_in_one_package(station, laptop, tmp_path):
    """The deletion is applied before "signed means proven": the content hash counts one photo."""
    exchange(station, laptop, tmp_path / "d1")  # the inspectors' list
    subject = add_subject(laptop, SubjectData(name="现场新登记的店", **SHOP))
    officers = [svc.OfficerData(n, c) for n, c in OFFICERS_DATA]
    inspection = svc.start_inspection(laptop, subject.id, "cosmetics-531", officers)
    first = svc.add_photo(laptop, inspection, "B2", photo_file(tmp_path))
    exchange(laptop, station, tmp_path / "u1")
    svc.remove_photo(laptop, inspection, first.id)
    answer_all(laptop, inspection, {"B2": "1批次无备案信息"})
    svc.update_details(laptop, inspection, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(laptop, inspection)
    sign_all(laptop, inspection)
    exchange(laptop, station, tmp_path / "u2")
    assert svc.load_inspection(station, inspection).status == "signed"
    assert count(station, Photo, inspection_id=inspection) == 0


def test_delete_against_edit_is_a_conflict_on_both_sides(station, laptop, tmp_path):
    shop = add_subject(station, SubjectData(name="驿城区某化妆品店", **SHOP))
    exchange(station, laptop, tmp_path / "d1")
    update_subject(laptop, shop.id, SubjectData(name="驿城区某化妆品店", **{**SHOP, "phone": "13900000000"}))
    delete_subject(station, shop.id)

    up = exchange(laptop, station, tmp_path / "u1")  # the edit meets the deletion at the station
    assert up.conflicts == 1 and up.applied == 0
    assert count(station, Subject, id=shop.id) == 0
    down = exchange(station, laptop, tmp_path / "d2")  # the deletion meets the edit on the laptop
    assert down.conflicts == 1 and down.applied == 0
    assert get_subject(laptop, shop.id).phone == "13900000000"

    [at_station] = sync.list_conflicts(station)
    [on_laptop] = sync.list_conflicts(laptop)
    assert (at_station.deleted, at_station.differing) == ("local", ["本机已删除"])
    assert (on_laptop.deleted, on_laptop.differing) == ("remote", ["对方已删除"])
    phone = {f.name: f for f in on_laptop.fields}["phone"]
    assert (phone.local, phone.remote) == ("13900000000", "（对方已删除）")
    assert {f.local for f in at_station.fields} == {"（本机已删除）"}

    # the station takes the laptop's edit back: restored, its tombstone gone
    sync.resolve_conflict(station, at_station.id, "remote")
    assert get_subject(station, shop.id).phone == "13900000000"
    assert count(station, SyncTombstone, record_id=shop.id) == 0
    # the laptop keeps its version: past the tombstone's, so it travels on
    done = sync.resolve_conflict(laptop, on_laptop.id, "local")
    with laptop.sessions() as s:
        assert s.get(Subject, shop.id).version == done.version > on_laptop.remote["version"]
    assert sync.list_conflicts(station) == [] and sync.list_conflicts(laptop) == []
    assert verify_chain(station).ok and verify_chain(laptop).ok


def test_resolving_for_the_deletion(ctx, tmp_path):
    """The other two choices: take the other side's deletion; keep a local deletion (sent again)."""
    station = ctx
    data = sync.add_device(station, "笔记本1")
    laptop = AppContext.open(tmp_path / "laptop.db")
    sync.enrol_device(laptop, data)
    shop = add_subject(station, SubjectData(name="驿城区某化妆品店", **SHOP))
    exchange(station, laptop, tmp_path / "d1")
    update_subject(laptop, shop.id, SubjectData(name="驿城区某化妆品店", **{**SHOP, "phone": "13900000000"}))
    delete_subject(station, shop.id)
    exchange(laptop, station, tmp_path / "u1")
    exchange(station, laptop, tmp_path / "d2")
    [on_laptop] = sync.list_conflicts(laptop)
    [at_station] = sync.list_conflicts(station)

    sync.resolve_conflict(laptop, on_laptop.id, "remote")  # the laptop accepts the deletion
    assert count(laptop, Subject, id=shop.id) == 0
    sync.resolve_conflict(station, at_station.id, "local")  # the station keeps it deleted
    with station.sessions() as s:
        tomb = s.get(SyncTombstone, ("subjects", shop.id))
    assert tomb.version > at_station.remote["version"]
    folder = tmp_path / "d3"
    folder.mkdir()
    [again] = sync.export_packages(station, folder, peer=laptop.device_id)
    assert [(t["id"], t["version"]) for t in tombstones_in(again)] == [(shop.id, tomb.version)]
    assert sync.import_package(laptop, again).conflicts == 0
    assert verify_chain(station).ok and verify_chain(laptop).ok
    laptop.close()


def forged(source: Path, target: Path, private_key: str, tombstones: list[dict], *, count: int | None = None) -> Path:
    """A package re-signed by the laptop's key with ``tombstones.jsonl`` added."""
    with zipfile.ZipFile(source) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    members.pop("manifest.sig")
    body = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tombstones).encode()
    members["tombstones.jsonl"] = body
    from core.signing import sha256_hex

    manifest["members"]["tombstones.jsonl"] = sha256_hex(body)
    manifest["tombstones"] = len(tombstones) if count is None else count
    manifest_bytes = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    write_zip_atomically(target, manifest_bytes, sign(private_key, manifest_bytes), members)
    return target


def tombstone(table: str, record_id: str, version: int = 1, **changes) -> dict:
    return {"table": table, "id": record_id, "version": version, "deleted_at": "2026-11-30T10:00:00",
            "deleted_by": "王建国", "device_id": "a1d00b0e-dd56-402b-86c2-e6f281cc2deb", **changes}


def test_a_signed_record_refuses_a_tombstone(station, laptop, tmp_path):
    exchange(station, laptop, tmp_path / "d1")
    subject = add_subject(laptop, SubjectData(name="现场新登记的店", **SHOP))
    officers = [svc.OfficerData(n, c) for n, c in OFFICERS_DATA]
    inspection = svc.start_inspection(laptop, subject.id, "cosmetics-531", officers)
    photo = svc.add_photo(laptop, inspection, "B2", photo_file(tmp_path))
    answer_all(laptop, inspection, {"B2": "1批次无备案信息"})
    svc.update_details(laptop, inspection, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(laptop, inspection)
    sign_all(laptop, inspection)
    exchange(laptop, station, tmp_path / "u1")
    assert svc.load_inspection(station, inspection).status == "signed"

    # never deletable locally: the service and the lock refuse
    with pytest.raises((RecordLocked, WorkflowError)):
        svc.remove_photo(laptop, inspection, photo.id)
    with pytest.raises(WorkflowError):
        delete_subject(laptop, subject.id)

    # nor by a tombstone: the whole package is refused, nothing written
    exchange(station, laptop, tmp_path / "d2")  # the acknowledgement: the laptop's next package is empty
    folder = tmp_path / "u2"
    folder.mkdir()
    [empty] = sync.export_packages(laptop, folder)
    bad = forged(empty, tmp_path / "forged.zip", laptop.enrolment["device_private_key"],
                 [tombstone("photos", photo.id, 1), tombstone("subjects", subject.id, 1)])
    before = dump(station)
    with pytest.raises(InvalidInput) as refused:
        sync.import_package(station, bad)
    assert "签名锁定" in refused.value.message and "未导入任何内容" in refused.value.message
    assert dump(station) == before
    assert count(station, Photo, id=photo.id) == 1
    assert verify_chain(station).ok


BAD = {
    "unknown table": ([tombstone("users", "5e75452a-4932-4f2d-b0ad-f413facb4019")], "不能经同步删除"),
    "a draft inspection": ([tombstone("inspections", "5e75452a-4932-4f2d-b0ad-f413facb4019")], "不能经同步删除"),
    "malformed id": ([tombstone("subjects", "../../etc")], "字段 id 应为编号"),
    "upper-case id": ([tombstone("subjects", "5E75452A-4932-4F2D-B0AD-F413FACB4019")], "字段 id 应为编号"),
    "boolean version": ([tombstone("subjects", "5e75452a-4932-4f2d-b0ad-f413facb4019", True)], "version"),
    "version 0": ([tombstone("subjects", "5e75452a-4932-4f2d-b0ad-f413facb4019", 0)], "version"),
    "huge version": ([tombstone("subjects", "5e75452a-4932-4f2d-b0ad-f413facb4019", 2**70)], "version"),
    "extra key": ([tombstone("subjects", "5e75452a-4932-4f2d-b0ad-f413facb4019", sql="DROP")], "字段不符"),
    "zoned time": ([tombstone("subjects", "5e75452a-4932-4f2d-b0ad-f413facb4019",
                              deleted_at="2026-11-30T10:00:00+08:00")], "deleted_at"),
    "long name": ([tombstone("subjects", "5e75452a-4932-4f2d-b0ad-f413facb4019", deleted_by="某" * 65)],
                  "deleted_by"),
    "twice": ([tombstone("subjects", "5e75452a-4932-4f2d-b0ad-f413facb4019")] * 2, "重复"),
    "not an object": ([["subjects"]], "应为对象"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_hostile_tombstones_are_refused(ctx, tmp_path, case):
    data = sync.add_device(ctx, "笔记本1")
    laptop = AppContext.open(tmp_path / "laptop.db")
    sync.enrol_device(laptop, data)
    [empty] = sync.export_packages(laptop, tmp_path)
    rows, needle = BAD[case]
    bad = forged(empty, tmp_path / "forged.zip", data["device_private_key"], rows)
    before = dump(ctx)
    with pytest.raises(InvalidInput) as refused:
        sync.import_package(ctx, bad)
    assert needle in refused.value.message and "tombstones" in refused.value.message
    assert dump(ctx) == before
    laptop.close()


def test_tombstone_counts_and_bounds(ctx, tmp_path, monkeypatch):
    from core.sync import tombstones as module

    data = sync.add_device(ctx, "笔记本1")
    laptop = AppContext.open(tmp_path / "laptop.db")
    sync.enrol_device(laptop, data)
    [empty] = sync.export_packages(laptop, tmp_path)
    one = [tombstone("subjects", "5e75452a-4932-4f2d-b0ad-f413facb4019")]
    with pytest.raises(InvalidInput, match="删除记录数与清单不符"):
        sync.import_package(ctx, forged(empty, tmp_path / "a.zip", data["device_private_key"], one, count=2))
    monkeypatch.setattr(module, "MAX_TOMBSTONES", 3)
    many = [tombstone("subjects", f"5e75452a-4932-4f2d-b0ad-f413facb401{i}") for i in range(6)]
    with pytest.raises(InvalidInput, match="删除记录过多|tombstones"):
        sync.import_package(ctx, forged(empty, tmp_path / "b.zip", data["device_private_key"], many))
    # a record both deleted and sent
    shop = add_subject(laptop, SubjectData(name="某店", **SHOP))
    [sent] = sync.export_packages(laptop, tmp_path / "c")
    with pytest.raises(InvalidInput, match="既被删除又被发送"):
        sync.import_package(ctx, forged(sent, tmp_path / "c.zip", data["device_private_key"],
                                        [tombstone("subjects", shop.id)]))
    assert sync.list_conflicts(ctx) == []
    laptop.close()
