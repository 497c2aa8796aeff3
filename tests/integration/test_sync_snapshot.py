"""An export and an import each see one moment of the database, on PostgreSQL too.

Fault: PostgreSQL's default isolation (READ COMMITTED) gives each statement of a transaction its own
snapshot. An edit committed by another connection (a console, a CLI run, a second hub process)
between the export reading a record and writing the peer's ``sync_base`` left ``sync_base`` saying
the peer had the *new* version while the package carried the old one — so the peer's later edit
of that record would not be seen as a conflict with the edit it never received. Likewise an import:
a local edit committed between the import reading a record (no local change since the base: take
the remote one) and writing it was overwritten, silently. Both now run at REPEATABLE READ there
(``db.engine.one_snapshot``; SQLite's transaction is one snapshot already, and a writer that committed
in between makes its write fail instead): the export records what it sent; the import is refused as
"busy", nothing written, and the next try sees the local edit and keeps the conflict for a person.
"""
from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import select

from core import inspections as svc
from core import sync
from core.context import AppContext
from core.errors import InvalidInput
from core.sync import apply as sync_apply
from core.subjects import SubjectData, add_subject, update_subject
from core.sync import export
from db.engine import storage_problem
from db.models import Inspection, Subject, SyncBase, SyncConflict
from tests.conftest import OFFICERS_DATA
from tests.integration.test_sync import enrolled_laptop, pull_master_data
from tests.integration.test_tombstones import SHOP


def test_an_edit_committed_during_the_export_is_not_recorded_as_sent(pg_server, tmp_path, monkeypatch):
    url = pg_server.create_database()
    station = AppContext.open(url, attachments_dir=tmp_path / "station-attachments")
    other = AppContext.open(url, attachments_dir=tmp_path / "station-attachments")  # the console, say
    try:
        laptop, _ = enrolled_laptop(station, tmp_path, "笔记本1")
        pull_master_data(station, laptop, tmp_path / "down")
        subject = add_subject(station, SubjectData(name="驿城区正在改名的店", **SHOP))
        real = export.export_sets.write_bases

        def edited_meanwhile(s, peer, tables):  # after the rows were read, before sync_base is written
            update_subject(other, subject.id, SubjectData(name="驿城区正在改名的店（已更名）", **SHOP))
            real(s, peer, tables)

        monkeypatch.setattr(export.export_sets, "write_bases", edited_meanwhile)
        paths = sync.export_packages(station, tmp_path / "out", peer=laptop.device_id)
        monkeypatch.setattr(export.export_sets, "write_bases", real)
        with zipfile.ZipFile(paths[0]) as zf:
            [sent] = [json.loads(line) for line in zf.read("records/subjects.jsonl").decode().splitlines()
                      if json.loads(line)["id"] == subject.id]
        with station.engine.connect() as conn:
            now = conn.scalar(select(Subject.version).where(Subject.id == subject.id))
            base = conn.scalar(select(SyncBase.version).where(
                SyncBase.peer_id == laptop.device_id, SyncBase.table_name == "subjects",
                SyncBase.record_id == subject.id))
        assert now == sent["version"] + 1  # the edit landed after the read
        assert base == sent["version"]  # what the laptop was sent, not what the station has now
        # and the edit goes in the next package
        [again] = sync.export_packages(station, tmp_path / "next", peer=laptop.device_id)
        with zipfile.ZipFile(again) as zf:
            names = [json.loads(line)["name"] for line in zf.read("records/subjects.jsonl").decode().splitlines()]
        assert "驿城区正在改名的店（已更名）" in names
        laptop.close()
    finally:
        other.close()
        station.close()


def test_a_local_edit_committed_during_an_import_is_not_overwritten(pg_server, tmp_path, monkeypatch):
    url = pg_server.create_database()
    station = AppContext.open(url, attachments_dir=tmp_path / "station-attachments")
    other = AppContext.open(url, attachments_dir=tmp_path / "station-attachments")  # the console, say
    try:
        subject = add_subject(station, SubjectData(name="驿城区草稿所在的店", **SHOP))
        draft = svc.start_inspection(station, subject.id, "cosmetics-531",
                                     [svc.OfficerData(n, c) for n, c in OFFICERS_DATA])
        laptop, _ = enrolled_laptop(station, tmp_path, "笔记本1")
        pull_master_data(station, laptop, tmp_path / "down")
        svc.update_details(laptop, draft, findings="笔记本：现场发现过期产品")
        (tmp_path / "up").mkdir()
        [package] = sync.export_packages(laptop, tmp_path / "up")
        real = sync_apply._apply_record

        def edited_meanwhile(session, pkg, table, remote, *rest):  # the draft read and taken, not yet written
            real(session, pkg, table, remote, *rest)
            if table == "inspections" and remote["id"] == draft:
                svc.update_details(other, draft, findings="站内：已电话核实")

        monkeypatch.setattr(sync_apply, "_apply_record", edited_meanwhile)
        with pytest.raises(InvalidInput, match="数据库正被另一个程序占用"):
            sync.import_package(station, package)
        monkeypatch.setattr(sync_apply, "_apply_record", real)
        with station.engine.connect() as conn:
            assert conn.scalar(select(Inspection.findings).where(Inspection.id == draft)) == "站内：已电话核实"
            assert conn.scalar(select(SyncConflict.id)) is None
        summary = sync.import_package(station, package)  # the next try sees the edit: a conflict
        assert summary.conflicts == 1
        with station.engine.connect() as conn:
            assert conn.scalar(select(Inspection.findings).where(Inspection.id == draft)) == "站内：已电话核实"
        laptop.close()
    finally:
        other.close()
        station.close()


def test_a_serialization_failure_is_the_busy_message():
    """Two exports or an export and an import writing the same ``sync_base`` rows at once: PostgreSQL
    refuses the later one (40001); the user is told the database is busy, as for a locked file."""
    psycopg = pytest.importorskip("psycopg")
    from sqlalchemy.exc import OperationalError

    failure = psycopg.errors.SerializationFailure("could not serialize access due to concurrent update")
    assert storage_problem(OperationalError("INSERT …", {}, failure)) == "busy"
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    assert storage_problem(OperationalError("INSERT …", {}, deadlock)) == "busy"
