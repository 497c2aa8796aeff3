"""The sync panel's services: status counts and resolving conflicts both ways."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from core import inspections as svc
from core import sync
from core.audit import verify_chain
from core.errors import InvalidInput, RecordLocked
from core.sync import describe_import, list_conflicts, pending_changes, record_result, resolve_conflict, sync_status
from core.users import PermissionDenied, add_user
from db.models import AuditEntry, Inspection, SyncConflict
from tests.integration.helpers import answer_all, sign_all
from tests.integration.helpers import register_officers
from tests.integration.test_sync import dump, enrolled_laptop, inspect_offline, pull_master_data


def export_one(ctx, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    [path] = sync.export_packages(ctx, folder)
    return path


def send_down(station, laptops, folder: Path) -> None:
    """The station's packages, each imported by the laptop it is addressed to."""
    folder.mkdir(exist_ok=True)
    by_id = {laptop.device_id: laptop for laptop in laptops}
    for path in sync.export_packages(station, folder):
        to = json.loads(zipfile.ZipFile(path).read("manifest.json"))["to_device_id"]
        if to in by_id:
            sync.import_package(by_id[to], path)


def two_laptop_conflict(station, subject, officers, tmp_path):
    """The station's draft edited on laptops A and B; A's edit is applied, B's kept as a conflict."""
    draft = svc.start_inspection(station, subject.id, "cosmetics-531", officers)
    laptop_a, _ = enrolled_laptop(station, tmp_path, "笔记本A")
    laptop_b, _ = enrolled_laptop(station, tmp_path, "笔记本B")
    send_down(station, [laptop_a, laptop_b], tmp_path / "down")
    svc.update_details(laptop_a, draft, findings="A：现场发现过期产品")
    svc.update_details(laptop_b, draft, findings="B：未发现问题")
    assert sync.import_package(station, export_one(laptop_a, tmp_path / "a")).applied == 1
    assert sync.import_package(station, export_one(laptop_b, tmp_path / "b")).conflicts == 1
    return draft, laptop_a, laptop_b


@pytest.fixture
def conflict(ctx, subject, officers, tmp_path):
    draft, laptop_a, laptop_b = two_laptop_conflict(ctx, subject, officers, tmp_path)
    [row] = list_conflicts(ctx)
    yield {"station": ctx, "draft": draft, "a": laptop_a, "b": laptop_b, "row": row, "tmp": tmp_path}
    laptop_a.close()
    laptop_b.close()


def version_of(ctx, inspection_id: str) -> int:
    with ctx.sessions() as s:
        return s.get(Inspection, inspection_id).version


# --- status ---------------------------------------------------------------------------------

def test_status_before_sync_is_set_up(ctx):
    status = sync_status(ctx)
    assert status.role is None and status.role_label == "尚未设置同步"
    assert status.peers == [] and status.pending == [] and status.open_conflicts == 0
    assert status.last_export is None and status.last_import is None and status.last_result == ""


def test_status_counts_what_the_next_export_carries(ctx, subject, officers, tmp_path):
    station = ctx
    register_officers(station)  # signed inspections are accepted from officers on the station's list
    laptop, _ = enrolled_laptop(station, tmp_path, "笔记本1")
    pull_master_data(station, laptop, tmp_path / "down")
    status = sync_status(laptop)
    assert status.role == "device" and status.device_name == "笔记本1"
    assert status.peers == [(station.device_id, station.setting("station_name"))]
    assert status.pending == [] and status.last_import.seq == 1 and status.last_export is None

    inspect_offline(laptop, subject.id, officers, tmp_path)
    before = dump(laptop)
    pending = pending_changes(laptop)
    assert dump(laptop) == before  # counting writes nothing
    package = export_one(laptop, tmp_path / "up")
    counts = json.loads(zipfile.ZipFile(package).read("manifest.json"))["counts"]
    assert pending == {t: n for t, n in counts.items() if t != "template_snapshots"}
    status = sync_status(laptop)
    assert {r.label: r.count for r in status.pending}["检查记录"] == 1
    assert status.pending_total == sum(pending.values())
    assert status.last_export.seq == 1 and status.last_export.peer == station.setting("station_name")

    # exported but not yet acknowledged: still pending; once the station acknowledges, nothing is
    assert pending_changes(laptop) == pending
    sync.import_package(station, package)
    pull_master_data(station, laptop, tmp_path / "down2")
    assert pending_changes(laptop) == {}
    assert sync_status(station).peers == [(laptop.device_id, "笔记本1")]

    record_result(laptop, describe_import(sync.ImportSummary(applied=3, unchanged=1, conflicts=1)))
    status = sync_status(laptop)
    assert status.last_result == "已导入 1 个同步包：更新 3 条，未变 1 条，冲突 1 条（请在下方“同步冲突”中处理）"
    assert status.last_result_at is not None
    laptop.close()


def test_describe_an_import_already_done():
    assert "均已导入过" in describe_import(sync.ImportSummary(already_imported=True), 2)


# --- conflicts ----------------------------------------------------------------------------------

def test_conflict_list_shows_both_versions(conflict):
    row = conflict["row"]
    assert sync_status(conflict["station"]).open_conflicts == 1
    assert row.table_label == "检查记录" and row.record_id == conflict["draft"] and row.from_device == "笔记本B"
    assert row.title == svc.load_inspection(conflict["station"], conflict["draft"]).number
    findings = next(f for f in row.fields if f.name == "findings")
    assert (findings.label, findings.local, findings.remote) == ("检查情况", "A：现场发现过期产品", "B：未发现问题")
    assert findings.differs and "检查情况" in row.differing
    assert not next(f for f in row.fields if f.name == "number").differs
    by_name = {f.name: f for f in row.fields}
    assert by_name["subject_id"].local == "驿城区测试化妆品店"  # ids read as names
    assert by_name["device_id"].remote == conflict["station"].setting("station_name")
    assert row.fields[0].name in ("findings", "updated_at")  # differing fields first


def test_take_remote_applies_it_and_it_syncs_onward(conflict):
    station, draft, row = conflict["station"], conflict["draft"], conflict["row"]
    versions = (row.local["version"], row.remote["version"])
    result = resolve_conflict(station, row.id, "remote")
    assert result.version == max(versions) + 1 == version_of(station, draft)
    assert svc.load_inspection(station, draft).findings == "B：未发现问题"
    with station.sessions() as s:
        stored = s.get(SyncConflict, row.id)
        assert stored.resolved_at is not None and stored.remote_json  # kept, not deleted
        actors = set(s.scalars(select(AuditEntry.actor).where(AuditEntry.record_id == draft,
                                                              AuditEntry.seq > 0).order_by(AuditEntry.seq)))
    assert "系统" in actors  # the resolution is in the audit trail under who did it
    assert list_conflicts(station) == []
    [done] = list_conflicts(station, include_resolved=True)
    assert done.resolved_at is not None and done.resolved_by == "系统"
    assert verify_chain(station).ok

    # both laptops take the outcome without a new conflict
    send_down(station, [conflict["a"], conflict["b"]], conflict["tmp"] / "down-after")
    for laptop in (conflict["a"], conflict["b"]):
        assert svc.load_inspection(laptop, draft).findings == "B：未发现问题"
        assert version_of(laptop, draft) == result.version
        with laptop.sessions() as s:
            assert s.scalars(select(SyncConflict)).all() == []
    with pytest.raises(InvalidInput, match="已处理过"):
        resolve_conflict(station, row.id, "local")


def test_keep_local_keeps_the_row_and_the_other_laptop_follows(conflict):
    station, draft, row = conflict["station"], conflict["draft"], conflict["row"]
    result = resolve_conflict(station, row.id, "local")
    assert svc.load_inspection(station, draft).findings == "A：现场发现过期产品"
    assert result.version == version_of(station, draft) > max(row.local["version"], row.remote["version"])
    assert list_conflicts(station) == []
    send_down(station, [conflict["a"], conflict["b"]], conflict["tmp"] / "down-after")
    assert svc.load_inspection(conflict["b"], draft).findings == "A：现场发现过期产品"
    assert verify_chain(station).ok


def test_unknown_choice_and_missing_conflict(conflict):
    with pytest.raises(InvalidInput, match="未知的处理方式"):
        resolve_conflict(conflict["station"], conflict["row"].id, "both")
    with pytest.raises(Exception, match="找不到该同步冲突"):
        resolve_conflict(conflict["station"], 9999, "local")


def signed_record_conflict(station, subject, officers, tmp_path):
    """A laptop edits a draft the station then signs: the laptop's version is kept as a conflict."""
    draft = svc.start_inspection(station, subject.id, "cosmetics-531", officers)
    laptop, _ = enrolled_laptop(station, tmp_path, "笔记本1")
    pull_master_data(station, laptop, tmp_path / "down")
    svc.update_details(laptop, draft, findings="笔记本上补充的情况")
    package = export_one(laptop, tmp_path / "up")
    answer_all(station, draft, {})
    svc.update_details(station, draft, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(station, draft)
    sign_all(station, draft)
    assert sync.import_package(station, package).conflicts >= 1
    return draft, laptop


def test_signed_record_refuses_the_remote_version(ctx, subject, officers, tmp_path):
    station = ctx
    draft, laptop = signed_record_conflict(station, subject, officers, tmp_path)
    [row] = [r for r in list_conflicts(station) if r.table == "inspections"]

    before = dump(station)
    with pytest.raises(RecordLocked) as refused:
        resolve_conflict(station, row.id, "remote")
    assert "已签名锁定" in refused.value.message and "保留本机版本" in refused.value.message
    assert dump(station) == before
    resolve_conflict(station, row.id, "local")
    record = svc.load_inspection(station, draft)
    assert record.status == "signed" and record.current_hash() == record.content_hash
    assert verify_chain(station).ok
    laptop.close()


@pytest.mark.parametrize("role, extra", [("inspector", {"cert_no": "41170029999"}), ("grid_worker", {"grid": "测试社区"})])
def test_only_the_admin_resolves_conflicts(conflict, role, extra):
    station = conflict["station"]
    admin = add_user(station, name="管理员", role="admin", password="secret1")
    station.user = admin
    other = add_user(station, name="某用户", role=role, password="secret1", **extra)
    station.user = other
    assert sync_status(station).open_conflicts == 1  # everyone sees the status
    with pytest.raises(PermissionDenied, match="无权处理同步冲突"):
        resolve_conflict(station, conflict["row"].id, "remote")
    assert list_conflicts(station)[0].resolved_at is None
    station.user = admin
    resolve_conflict(station, conflict["row"].id, "remote")
    assert list_conflicts(station, include_resolved=True)[0].resolved_by == "管理员"
    station.user = None
