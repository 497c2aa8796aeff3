"""Batch sync by USB stick / shared folder: round trip, conflicts and every refused package.

Each refused package must leave the database exactly as it was (a full content dump,
audit log included, compared before and after) and give one clear line on stderr.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import errno
import io
import json
import re
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select, text

import main
from core.attachments import read_attachment
from core import inspections as svc
from core import sync
from core.signing import new_key_pair, sign
from core.sync import package as sync_package
from core.sync.writer import write_zip_atomically
from tests.support import paused_import
from core.audit import verify_chain
from core.context import AppContext
from db.models import Base, SyncConflict
from tests.integration.helpers import answer_all, register_officers, sign_all

ROOT = Path(__file__).resolve().parents[2]
COMPARED = ("inspections", "inspection_officers", "item_results", "signatures", "photos", "rectifications")


# --- helpers ---------------------------------------------------------------------------------

def dump(ctx: AppContext) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: equal dumps mean nothing changed."""
    with ctx.engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(t.select()).all()), key=repr)
                for t in Base.metadata.sorted_tables}


def rows_of(ctx: AppContext, table: str, inspection_id: str) -> list[dict]:
    column = "id" if table == "inspections" else "inspection_id"
    with ctx.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT * FROM {table} WHERE {column} = :i ORDER BY id"), {"i": inspection_id})
        return [dict(r._mapping) for r in rows]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def photo_file(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "现场照片.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path, format="JPEG")
    return path


def enrolled_laptop(station: AppContext, tmp_path: Path, name: str) -> tuple[AppContext, dict]:
    data = sync.add_device(station, name)
    laptop = AppContext.open(tmp_path / f"{name}.db")
    sync.enrol_device(laptop, data)
    return laptop, data


def pull_master_data(station: AppContext, laptop: AppContext, out: Path) -> None:
    """Station exports to every laptop; this laptop imports the package addressed to it."""
    out.mkdir(exist_ok=True)
    for path in sync.export_packages(station, out):
        manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
        if manifest["to_device_id"] == laptop.device_id:
            sync.import_package(laptop, path)


def inspect_offline(laptop: AppContext, subject_id: str, officers, tmp_path: Path) -> str:
    inspection_id = svc.start_inspection(laptop, subject_id, "cosmetics-531", officers)
    answer_all(laptop, inspection_id, {"B2": "1批次无备案信息"})
    svc.add_photo(laptop, inspection_id, "B2", photo_file(tmp_path))
    svc.update_details(laptop, inspection_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(laptop, inspection_id)
    sign_all(laptop, inspection_id)
    return inspection_id


def rezip(source: Path, target: Path, change) -> Path:
    """Copy a package, passing each member through ``change(name, data) -> data`` (valid CRCs)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, change(info.filename, zin.read(info)))
    return target


def flip_byte(source: Path, target: Path, member: str) -> Path:
    """Copy a package with one byte flipped in the middle of ``member``'s stored data."""
    raw = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo(member)
    name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    raw[start + info.compress_size // 2] ^= 0x01
    target.write_bytes(bytes(raw))
    return target


def signed_package(source: Path, target: Path, private_key: str, edit) -> Path:
    """Re-sign a package after ``edit(manifest)``: as if a (different) app had written it."""
    with zipfile.ZipFile(source) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    members.pop("manifest.sig")
    edit(manifest)
    manifest_bytes = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    write_zip_atomically(target, manifest_bytes, sign(private_key, manifest_bytes), members)
    return target


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture
def setup(ctx, subject, officers, tmp_path):
    """A station with one enrolled laptop holding a signed inspection, and its package up."""
    register_officers(ctx)  # signed inspections are accepted from officers on the station's list
    laptop, enrolment = enrolled_laptop(ctx, tmp_path, "笔记本1")
    pull_master_data(ctx, laptop, tmp_path / "down")
    inspection_id = inspect_offline(laptop, subject.id, officers, tmp_path)
    up = tmp_path / "up"
    up.mkdir()
    [package] = sync.export_packages(laptop, up)
    yield {"station": ctx, "laptop": laptop, "enrolment": enrolment, "inspection_id": inspection_id,
           "package": package, "tmp": tmp_path}
    laptop.close()


def assert_refused(capsys, station: AppContext, package: Path, *needles: str) -> None:
    before = dump(station)
    code, out, err = cli(capsys, "sync", "import", "--db", station.engine.url.database, package, "--json")
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1
    assert any(n in err for n in needles), err
    assert dump(station) == before
    assert verify_chain(station).ok


# --- round trip --------------------------------------------------------------------------------

def test_round_trip_station_laptop_station(setup, capsys):
    station, laptop, inspection_id = setup["station"], setup["laptop"], setup["inspection_id"]
    # master data came down: the laptop numbers its documents with its own device sub-number
    assert laptop.setting("device_no") == "1"
    assert svc.load_inspection(laptop, inspection_id).number.endswith("〔%d〕1-0001号" % laptop.clock().year)

    code, out, err = cli(capsys, "sync", "import", "--db", station.engine.url.database, setup["package"], "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["applied"] > 0 and summary["conflicts"] == 0 and summary["already_imported"] is False

    for table in COMPARED:
        assert rows_of(station, table, inspection_id) == rows_of(laptop, table, inspection_id), table
    record = svc.load_inspection(station, inspection_id)
    assert record.status == "signed" and record.current_hash() == record.content_hash
    [photo] = record.photos
    laptop_photo = svc.load_inspection(laptop, inspection_id).photos[0]
    assert read_attachment(station, photo.path) == read_attachment(laptop, laptop_photo.path)
    assert photo.path != laptop_photo.path  # the station's own attachments folder
    with station.engine.connect() as conn:
        actors = {a for (a,) in conn.execute(text("SELECT DISTINCT actor FROM audit_log WHERE table_name='inspections'"
                                                  " AND record_id=:i"), {"i": inspection_id})}
    assert actors == {"同步:笔记本1"}
    assert verify_chain(station).ok and verify_chain(laptop).ok

    before = dump(station)
    code, out, _ = cli(capsys, "sync", "import", "--db", station.engine.url.database, setup["package"], "--json")
    assert code == 0 and json.loads(out) == {"applied": 0, "unchanged": 0, "conflicts": 0, "already_imported": True}
    assert dump(station) == before

    # the station's next package acknowledges the laptop's batch: nothing is sent twice
    pull_master_data(station, laptop, setup["tmp"] / "down2")
    [again] = sync.export_packages(laptop, setup["tmp"] / "up")
    manifest = json.loads(zipfile.ZipFile(again).read("manifest.json"))
    assert manifest["counts"] == {} and manifest["seq"] == 2


def test_cli_devices_add_enrol_and_export(ctx, subject, tmp_path, capsys, monkeypatch):
    station_db = ctx.engine.url.database
    enrolment = tmp_path / "laptop.json"
    code, out, _ = cli(capsys, "devices", "add", "--db", station_db, "--name", "笔记本7", "--out", enrolment)
    assert code == 0 and enrolment.is_file()
    [one_time_code] = re.findall(r"一次性登记码：(\d{4}-\d{4}-\d{4})", out)
    assert "device_private_key" not in enrolment.read_text(encoding="utf-8")  # sealed: a copied stick gives nothing
    data = sync.open_enrolment(enrolment.read_bytes(), one_time_code)
    assert data["device_no"] == 1 and data["station_name"] == ctx.setting("station_name")
    laptop_db = tmp_path / "new" / "laptop.db"
    monkeypatch.setattr("sys.stdin", io.StringIO("0000-0000-0000\n"))
    code, _, err = cli(capsys, "devices", "enrol", "--db", laptop_db, enrolment, "--code-stdin")
    assert code == 2 and err.strip() == "错误：登记码不正确（或登记文件已被改动）"
    monkeypatch.setattr("sys.stdin", io.StringIO(one_time_code + "\n"))
    code, out, _ = cli(capsys, "devices", "enrol", "--db", laptop_db, enrolment, "--code-stdin")
    assert code == 0 and laptop_db.is_file()
    out_dir = tmp_path / "usb"
    out_dir.mkdir()
    code, out, _ = cli(capsys, "sync", "export", "--db", station_db, "--out", out_dir, "--json")
    [path] = json.loads(out)
    code, out, _ = cli(capsys, "sync", "import", "--db", laptop_db, path, "--json")
    assert code == 0 and json.loads(out)["applied"] >= 1
    laptop = AppContext.open(laptop_db)
    assert laptop.setting("device_no") == "1" and laptop.device_id == data["device_id"]
    with laptop.sessions() as s:
        from db.models import Subject

        assert s.scalar(select(Subject.name).where(Subject.id == subject.id)) == subject.name
    laptop.close()
    monkeypatch.setattr("sys.stdin", io.StringIO(one_time_code + "\n"))
    code, _, err = cli(capsys, "devices", "enrol", "--db", station_db, enrolment, "--code-stdin")
    assert code == 2 and "不能作为笔记本登记" in err


def test_large_exports_are_split(setup):
    laptop = setup["laptop"]
    out = setup["tmp"] / "split"
    out.mkdir()
    paths = sync.export_packages(laptop, out, max_mb=0.001)
    assert len(paths) > 1
    station = setup["station"]
    summary = sync.import_packages(station, paths)
    assert summary.applied > 0 and summary.conflicts == 0
    assert rows_of(station, "item_results", setup["inspection_id"]) == rows_of(laptop, "item_results",
                                                                               setup["inspection_id"])


# --- refused packages ----------------------------------------------------------------------------

def test_truncated_package(setup, capsys):
    package = setup["package"]
    cut = setup["tmp"] / "cut.zip"
    cut.write_bytes(package.read_bytes()[: package.stat().st_size // 2])
    assert_refused(capsys, setup["station"], cut, "已损坏或不完整")


@pytest.mark.parametrize("member", ["records/item_results.jsonl", "attachments", "manifest.json"])
def test_one_flipped_byte(setup, capsys, member):
    with zipfile.ZipFile(setup["package"]) as zf:
        names = zf.namelist()
    name = next(n for n in names if n.startswith(member))
    bad = flip_byte(setup["package"], setup["tmp"] / "flipped.zip", name)
    assert_refused(capsys, setup["station"], bad, "已损坏", "签名无效")


def test_tampered_record_with_valid_zip_checksums(setup, capsys):
    bad = rezip(setup["package"], setup["tmp"] / "edited.zip",
                lambda n, d: d.replace("无异议".encode(), "有异议".encode()) if n == "records/inspections.jsonl" else d)
    assert_refused(capsys, setup["station"], bad, "SHA-256 与清单不符")


def test_tampered_manifest_with_valid_zip_checksums(setup, capsys):
    bad = rezip(setup["package"], setup["tmp"] / "edited.zip",
                lambda n, d: d.replace(b'"seq": 1', b'"seq": 9') if n == "manifest.json" else d)
    assert_refused(capsys, setup["station"], bad, "签名无效")


def test_unlisted_member(setup, capsys):
    bad = setup["tmp"] / "extra.zip"
    bad.write_bytes(setup["package"].read_bytes())
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr("records/evil.jsonl", b"{}\n")
    assert_refused(capsys, setup["station"], bad, "成员与清单不符")


def test_replayed_package_changes_nothing(setup, capsys):
    station = setup["station"]
    first = sync.import_package(station, setup["package"])
    assert first.applied > 0
    before = dump(station)
    again = sync.import_package(station, setup["package"])
    assert again.already_imported and (again.applied, again.unchanged, again.conflicts) == (0, 0, 0)
    assert dump(station) == before


def test_package_from_a_foreign_station(setup, subject, officers, capsys, tmp_path):
    other = AppContext.open(tmp_path / "other-station.db")
    other_laptop, _ = enrolled_laptop(other, tmp_path, "外所笔记本")
    out = tmp_path / "foreign"
    out.mkdir()
    [package] = sync.export_packages(other_laptop, out)
    assert_refused(capsys, setup["station"], package, "来自其他所")
    other_laptop.close()
    other.close()


def test_package_from_an_unregistered_device(setup, capsys):
    forged = dict(setup["enrolment"], device_id=str(uuid.uuid4()), device_name="冒充")
    forged["device_private_key"], forged["device_public_key"] = new_key_pair()
    bad = signed_package(setup["package"], setup["tmp"] / "unregistered.zip", forged["device_private_key"],
                         lambda m: m.update(device_id=forged["device_id"]))
    assert_refused(capsys, setup["station"], bad, "未登记的设备")


def test_package_signed_with_the_wrong_key(setup, capsys):
    wrong_key, _ = new_key_pair()
    bad = signed_package(setup["package"], setup["tmp"] / "wrong-key.zip", wrong_key, lambda m: None)
    assert_refused(capsys, setup["station"], bad, "签名无效")


def test_package_from_a_newer_format(setup, capsys):
    bad = signed_package(setup["package"], setup["tmp"] / "newer.zip", setup["enrolment"]["device_private_key"],
                         lambda m: m.update(format_version=sync.FORMAT_VERSION + 1))
    assert_refused(capsys, setup["station"], bad, "由更新版本的软件生成", "请先升级")


def test_package_addressed_to_another_laptop(setup, capsys, tmp_path):
    station = setup["station"]
    other, _ = enrolled_laptop(station, tmp_path, "笔记本2")
    out = tmp_path / "down-other"
    out.mkdir()
    for path in sync.export_packages(station, out):
        if json.loads(zipfile.ZipFile(path).read("manifest.json"))["to_device_id"] == other.device_id:
            assert_refused(capsys, setup["laptop"], path, "发给另一台设备")
    other.close()


@pytest.mark.parametrize("fail_at, max_mb", [(1, "50"), (3, "0.001")])
def test_disk_full_during_export_leaves_no_package(setup, capsys, monkeypatch, fail_at, max_mb):
    """The disk fills while writing the first package, or the third of a split export."""
    laptop = setup["laptop"]
    out = setup["tmp"] / "full"
    out.mkdir()
    before = dump(laptop)
    calls = []
    real_replace = os.replace

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == fail_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(src, dst)

    monkeypatch.setattr(sync_package.os, "replace", replace)
    code, _, err = cli(capsys, "sync", "export", "--db", laptop.engine.url.database, "--out", out, "--max-mb", max_mb)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "磁盘空间" in err
    assert len(calls) == fail_at
    assert list(out.iterdir()) == []  # no package, no temp file
    assert dump(laptop) == before  # no batch recorded as sent
    monkeypatch.setattr(sync_package.os, "replace", real_replace)
    code, out_text, _ = cli(capsys, "sync", "export", "--db", laptop.engine.url.database, "--out", out)
    assert code == 0 and Path(out_text.strip()).name.endswith("-000002.zip")


# --- a killed import -----------------------------------------------------------------------------

def _write_locked(db: str) -> bool:
    conn = rawdb.connect(db, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.rollback()
        return False
    except rawdb.OperationalError:
        return True
    finally:
        conn.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_import_killed_midway_then_repeated(setup):
    station = setup["station"]
    db = station.engine.url.database
    before = dump(station)
    proc = subprocess.Popen(paused_import.command(60, "sync", "import", "--db", db, str(setup["package"])),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not _write_locked(db):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the import never started its transaction"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert dump(station) == before and verify_chain(station).ok

    summary = sync.import_package(station, setup["package"])
    assert summary.applied > 0 and not summary.already_imported
    for table in COMPARED:
        assert rows_of(station, table, setup["inspection_id"]) == rows_of(setup["laptop"], table,
                                                                           setup["inspection_id"])
    assert verify_chain(station).ok
    assert sync.import_package(station, setup["package"]).already_imported


# --- conflicts -----------------------------------------------------------------------------------

def test_two_laptops_edit_the_same_draft(ctx, subject, officers, tmp_path):
    station = ctx
    draft = svc.start_inspection(station, subject.id, "cosmetics-531", officers)
    laptop_a, _ = enrolled_laptop(station, tmp_path, "笔记本A")
    laptop_b, _ = enrolled_laptop(station, tmp_path, "笔记本B")
    down = tmp_path / "down"
    down.mkdir()
    for path in sync.export_packages(station, down):
        to = json.loads(zipfile.ZipFile(path).read("manifest.json"))["to_device_id"]
        sync.import_package(laptop_a if to == laptop_a.device_id else laptop_b, path)
    svc.update_details(laptop_a, draft, findings="A：现场发现过期产品")
    svc.update_details(laptop_b, draft, findings="B：未发现问题")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    [from_a] = sync.export_packages(laptop_a, tmp_path / "a")
    [from_b] = sync.export_packages(laptop_b, tmp_path / "b")

    first = sync.import_package(station, from_a)
    assert first.applied == 1 and first.conflicts == 0
    second = sync.import_package(station, from_b)
    assert second.conflicts == 1 and second.applied == 0

    assert svc.load_inspection(station, draft).findings == "A：现场发现过期产品"
    with station.sessions() as s:
        [conflict] = s.scalars(select(SyncConflict)).all()
    assert conflict.table_name == "inspections" and conflict.record_id == draft
    assert json.loads(conflict.local_json)["findings"] == "A：现场发现过期产品"
    assert json.loads(conflict.remote_json)["findings"] == "B：未发现问题"
    assert conflict.from_device == laptop_b.device_id and conflict.resolved_at is None
    assert verify_chain(station).ok
    laptop_a.close()
    laptop_b.close()



def test_redrawn_signature_replaces_the_old_one(ctx, subject, officers, tmp_path):
    """A signature drawn again on the laptop is a new row in the same place: it replaces the old one."""
    from tests.integration.helpers import signature_png

    station = ctx
    laptop, _ = enrolled_laptop(station, tmp_path, "笔记本1")
    pull_master_data(station, laptop, tmp_path / "down")
    draft = svc.start_inspection(laptop, subject.id, "cosmetics-531", officers)
    svc.add_signature(laptop, draft, "party", "张三", signature_png())
    (tmp_path / "up").mkdir()
    sync.import_packages(station, sync.export_packages(laptop, tmp_path / "up"))
    pull_master_data(station, laptop, tmp_path / "down2")  # acknowledges the laptop's batch

    from PIL import Image
    from io import BytesIO

    buffer = BytesIO()
    Image.new("RGBA", (90, 40), (0, 0, 90, 255)).save(buffer, format="PNG")
    svc.add_signature(laptop, draft, "party", "张三", buffer.getvalue())
    summary = sync.import_packages(station, sync.export_packages(laptop, tmp_path / "up"))
    assert summary.conflicts == 0
    [signature] = rows_of(station, "signatures", draft)
    assert signature == rows_of(laptop, "signatures", draft)[0]
    assert verify_chain(station).ok
    laptop.close()


def test_station_edit_of_another_laptops_record_brings_its_parents(setup, tmp_path):
    """Laptop B receives a task for laptop A's inspection with the inspection it refers to."""
    from db.models import InspectionTask

    station, inspection_id = setup["station"], setup["inspection_id"]
    sync.import_package(station, setup["package"])
    laptop_b, _ = enrolled_laptop(station, tmp_path, "笔记本B")
    pull_master_data(station, laptop_b, tmp_path / "b1")
    with station.transaction() as s:
        task = s.scalar(select(InspectionTask).where(InspectionTask.rectification_id.is_not(None)))
        task.officers_json = '[["王建国", "41170021001"]]'
        task.version += 1
    pull_master_data(station, laptop_b, tmp_path / "b2")
    with laptop_b.sessions() as s:
        assert s.get(InspectionTask, task.id).officers_json == task.officers_json
    for table in COMPARED:
        assert rows_of(laptop_b, table, inspection_id) == rows_of(station, table, inspection_id), table
    assert svc.load_inspection(laptop_b, inspection_id).status == "signed"
    laptop_b.close()


def test_list_devices_in_device_no_order(ctx, capsys):
    """A device number is never given out again, after a deletion or a revocation (issue 10:
    this test asserted the opposite before: a number in a document must name one laptop)."""
    assert sync.list_devices(ctx) == []
    first, second, third = (sync.add_device(ctx, name) for name in ("笔记本1", "笔记本2", "笔记本3"))
    assert [first["device_no"], second["device_no"], third["device_no"]] == [1, 2, 3]
    with ctx.transaction() as s:
        from db.models import Device

        s.delete(s.get(Device, third["device_id"]))  # the highest one: max(device_no) alone would reuse it
        s.delete(s.get(Device, first["device_id"]))
    fourth = sync.add_device(ctx, "笔记本4")
    assert fourth["device_no"] == 4
    sync.revoke_device(ctx, fourth["device_id"])
    fifth = sync.add_device(ctx, "笔记本5")
    assert fifth["device_no"] == 5
    rows = sync.list_devices(ctx)
    assert [(r.device_no, r.name, r.id, r.revoked) for r in rows] == [
        (2, "笔记本2", second["device_id"], False), (4, "笔记本4", fourth["device_id"], True),
        (5, "笔记本5", fifth["device_id"], False)]
    code, out, _ = cli(capsys, "devices", "list", "--db", ctx.engine.url.database)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0] == f"2\t笔记本2\t{second['device_id']}"
    assert lines[1].startswith(f"4\t笔记本4\t{fourth['device_id']}\t已吊销 20")
    assert lines[2] == f"5\t笔记本5\t{fifth['device_id']}"


def test_devices_add_records_nothing_when_the_enrolment_file_cannot_be_written(ctx, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    code, _, err = cli(capsys, "devices", "add", "--db", ctx.engine.url.database, "--name", "笔记本1",
                       "--out", blocker / "laptop.json")
    assert code == 2 and len(err.strip().splitlines()) == 1
    with ctx.sessions() as s:
        from db.models import Device

        assert s.scalars(select(Device)).all() == []
    code, out, _ = cli(capsys, "devices", "add", "--db", ctx.engine.url.database, "--name", "笔记本1",
                       "--out", tmp_path / "laptop.json")
    [one_time_code] = re.findall(r"一次性登记码：(\S+?)（", out)
    assert code == 0 and sync.open_enrolment((tmp_path / "laptop.json").read_bytes(), one_time_code)["device_no"] == 1
