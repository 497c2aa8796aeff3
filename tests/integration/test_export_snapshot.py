"""An export sees one moment of the database, on PostgreSQL too.

Fault: PostgreSQL's default isolation (READ COMMITTED) gives each statement of a transaction its own
snapshot. An edit committed by another connection (a console, a CLI run, a second hub process)
between the export reading a record and writing the peer's ``sync_base`` left ``sync_base`` saying
the peer had the *new* version while the package carried the old one — so the peer's later edit
of that record would not be seen as a conflict with the edit it never received. The export now runs
at REPEATABLE READ there (SQLite's transaction is one snapshot already, and a writer that committed
in between makes its write fail instead).
"""
from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import select

from core import sync
from core.context import AppContext
from core.subjects import SubjectData, add_subject, update_subject
from core.sync import export
from db.engine import storage_problem
from db.models import Subject, SyncBase
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


def test_a_serialization_failure_is_the_busy_message():
    """Two exports or an export and an import writing the same ``sync_base`` rows at once: PostgreSQL
    refuses the later one (40001); the user is told the database is busy, as for a locked file."""
    psycopg = pytest.importorskip("psycopg")
    from sqlalchemy.exc import OperationalError

    failure = psycopg.errors.SerializationFailure("could not serialize access due to concurrent update")
    assert storage_problem(OperationalError("INSERT …", {}, failure)) == "busy"
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    assert storage_problem(OperationalError("INSERT …", {}, deadlock)) == "busy"
