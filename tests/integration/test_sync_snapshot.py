"""An export and an import each see one moment of the database, on PostgreSQL too.

Fault: PostgreSQL's default isolation (READ COMMITTED) gives each statement of a transaction its own
snapshot. An edit committed by another connection (a console, a CLI run, a second hub process)
between the export reading a record and writing the peer's ``sync_base`` left ``sync_base`` saying
the peer had the *new* version while the package carried the old one — so the peer's later edit
of that record would not be seen as a conflict with the edit it never received. Likewise an import:
a local edit committed between the import reading a record (no local change since the base: take
the remote one) and writing it was overwritten, silently. The export now runs at REPEATABLE READ
there (``db.engine.one_snapshot``; SQLite's transaction is one snapshot already) and records what it
sent. The import first takes the audit chain's lock (``core.audit.lock_chain``), which every audited
write takes before its commit: no such write commits while the import runs; an edit waits for it,
or, holding a row the import wants, one of the two is refused as "busy" with nothing written, and
run again it meets the other's change. (A REPEATABLE READ import, tried first, took its snapshot
before that lock was free and chained its entries to a stale head: ``test_an_edit_elsewhere_…``.)
"""
from __future__ import annotations

import json
import threading
import time
import zipfile

import pytest
from sqlalchemy import select, text

from core import inspections as svc
from core.audit import verify_chain
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


def _import_with_an_edit_meanwhile(station: AppContext, package, draft: str, edit) -> tuple[dict, dict]:
    """Import ``package`` while ``edit`` runs on another connection, started once the import has
    read and taken ``draft`` (not yet written) and waited for until it is either done or waiting
    for a lock. Returns what each of the two ended with: {"ok": value} or {"error": message}."""
    real, edit_outcome = sync_apply._apply_record, {}

    def run_edit() -> None:
        try:
            edit_outcome["ok"] = edit()
        except InvalidInput as exc:
            edit_outcome["error"] = exc.message

    def edited_meanwhile(session, pkg, table, remote, *rest):
        real(session, pkg, table, remote, *rest)
        if table == "inspections" and remote["id"] == draft:
            worker.start()
            deadline = time.monotonic() + 30
            while worker.is_alive() and not _waiting_for_a_lock(station) and time.monotonic() < deadline:
                time.sleep(0.05)

    worker = threading.Thread(target=run_edit, daemon=True)
    sync_apply._apply_record = edited_meanwhile
    try:
        import_outcome = {"ok": sync.import_package(station, package)}
    except InvalidInput as exc:
        import_outcome = {"error": exc.message}
    finally:
        sync_apply._apply_record = real
    worker.join(timeout=60)
    assert not worker.is_alive()
    return import_outcome, edit_outcome


def _waiting_for_a_lock(ctx: AppContext) -> bool:
    with ctx.engine.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND wait_event_type = 'Lock'")))


def _laptop_edits_a_station_draft(station: AppContext, tmp_path):
    subject = add_subject(station, SubjectData(name="驿城区草稿所在的店", **SHOP))
    draft = svc.start_inspection(station, subject.id, "cosmetics-531",
                                 [svc.OfficerData(n, c) for n, c in OFFICERS_DATA])
    laptop, _ = enrolled_laptop(station, tmp_path, "笔记本1")
    pull_master_data(station, laptop, tmp_path / "down")
    svc.update_details(laptop, draft, findings="笔记本：现场发现过期产品")
    (tmp_path / "up").mkdir()
    [package] = sync.export_packages(laptop, tmp_path / "up")
    laptop.close()
    return draft, package


def test_an_edit_elsewhere_during_an_import_waits_for_it_and_both_land(pg_server, tmp_path):
    """A console renames a shop while a laptop's package is being imported: the rename waits for the
    import (the audit chain's lock) and lands after it. Fault before (the import at REPEATABLE READ):
    its snapshot was taken before the rename committed, so its audit entries took numbers the rename
    had used (a raw UniqueViolation, the import lost)."""
    url = pg_server.create_database()
    station = AppContext.open(url, attachments_dir=tmp_path / "station-attachments")
    other = AppContext.open(url, attachments_dir=tmp_path / "station-attachments")  # the console, say
    try:
        elsewhere = add_subject(station, SubjectData(name="驿城区另一家店", **{**SHOP, "credit_code": "91411702MA9XXXXX1D"}))
        draft, package = _laptop_edits_a_station_draft(station, tmp_path)
        renamed = SubjectData(name="驿城区另一家店（已更名）", **{**SHOP, "credit_code": "91411702MA9XXXXX1D"})
        imported, edited = _import_with_an_edit_meanwhile(
            station, package, draft, lambda: update_subject(other, elsewhere.id, renamed))
        assert "ok" in imported, imported
        assert imported["ok"].conflicts == 0
        assert "ok" in edited, edited
        with station.engine.connect() as conn:
            assert conn.scalar(select(Inspection.findings).where(Inspection.id == draft)) == "笔记本：现场发现过期产品"
            assert conn.scalar(select(Subject.name).where(Subject.id == elsewhere.id)) == "驿城区另一家店（已更名）"
        assert verify_chain(station).ok
    finally:
        other.close()
        station.close()


def test_an_edit_of_the_same_record_during_an_import_is_never_lost(pg_server, tmp_path):
    """A console edits the very draft a laptop's package changes, while the package is being imported.

    Fault before (READ COMMITTED): the edit committed between the import reading the draft (no
    local change since the base: take the remote one) and writing it, and was overwritten silently.
    Now no audited write commits while an import runs: the edit waits, and as it holds the draft's
    row while the import wants it, PostgreSQL refuses one of the two (a deadlock), which is told it
    is busy with nothing written. Either way nothing is lost: the refused one, run again, meets the
    other's change (the edit lands on top of the import; the import keeps the conflict for a person).
    """
    url = pg_server.create_database()
    station = AppContext.open(url, attachments_dir=tmp_path / "station-attachments")
    other = AppContext.open(url, attachments_dir=tmp_path / "station-attachments")  # the console, say
    try:
        draft, package = _laptop_edits_a_station_draft(station, tmp_path)
        imported, edited = _import_with_an_edit_meanwhile(
            station, package, draft, lambda: svc.update_details(other, draft, findings="站内：已电话核实"))
        busy = "数据库正被另一个程序占用"
        assert ("error" in imported) != ("error" in edited), (imported, edited)  # exactly one refused
        with station.engine.connect() as conn:
            findings = conn.scalar(select(Inspection.findings).where(Inspection.id == draft))
        if "error" in edited:  # the console was refused: the import landed; the edit, made again, lands on it
            assert busy in edited["error"]
            assert findings == "笔记本：现场发现过期产品"
            svc.update_details(other, draft, findings="站内：已电话核实")
        else:  # the import was refused: nothing of it written; the next try keeps the conflict
            assert busy in imported["error"]
            assert findings == "站内：已电话核实"
            assert sync.import_package(station, package).conflicts == 1
        with station.engine.connect() as conn:
            assert conn.scalar(select(Inspection.findings).where(Inspection.id == draft)) == "站内：已电话核实"
        assert verify_chain(station).ok
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


def test_a_copy_refused_by_postgresql_is_sqlalchemys_error(pg_server, tmp_path):
    """The bulk paths write by ``COPY`` on the driver's own cursor; its errors come out as SQLAlchemy's
    (an ``IntegrityError`` for a taken key), so that the import's "conflict, nothing imported" and
    the transaction's "busy" meet them. Fault before: a raw psycopg error, which the import and the
    hub answered as an unexpected one (a traceback, a 500)."""
    from sqlalchemy.exc import IntegrityError

    from db.bulk import insert_tuples

    station = AppContext.open(pg_server.create_database(), attachments_dir=tmp_path / "attachments")
    try:
        subject = add_subject(station, SubjectData(name="驿城区已有的店", **SHOP))
        with pytest.raises(InvalidInput, match="与本机数据冲突") as refused:
            try:
                with station.transaction() as s:
                    insert_tuples(s.connection(), "sync_base", ("peer_id", "table_name", "record_id", "version"),
                                  [("p", "subjects", subject.id, 1), ("p", "subjects", subject.id, 1)])
            except IntegrityError as exc:  # as ``core.sync.apply`` turns it into its message
                raise InvalidInput("与本机数据冲突") from exc
        assert type(refused.value.__cause__.orig).__name__ == "UniqueViolation"
        with station.engine.connect() as conn:
            assert conn.scalar(select(SyncBase.record_id)) is None  # nothing written
    finally:
        station.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_console_save_never_writes_over_an_import_that_committed_after_it_read(engine, request, tmp_path):
    """A console opens a draft (reads it), a laptop's package that changes the same draft is imported
    and committed, then the console saves. Fault before, on both engines: the save wrote over the
    import — the laptop's findings gone, and the draft at version 2 on both sides with different
    content, so sync would never see the difference. (On PostgreSQL each statement reads at READ
    COMMITTED; SQLite's driver begins the transaction only at the first write, so the read before it
    saw the database before the import too.) Now the save updates the row only where its version is
    still the one read (``db.models.SyncMixin``): it is refused, nothing of it written, with one
    message; made again it lands on top of the import."""
    from sqlalchemy import event

    from core.errors import CHANGED_MEANWHILE

    url = request.getfixturevalue("pg_server").create_database() if engine == "postgresql" \
        else str(tmp_path / "station.db")
    station = AppContext.open(url, attachments_dir=tmp_path / "station-attachments")
    draft, package = _laptop_edits_a_station_draft(station, tmp_path)
    other = AppContext.open(url, attachments_dir=tmp_path / "station-attachments")  # the console, say
    imported = []

    def import_before_the_console_writes(session, _context, _instances) -> None:
        if not imported:  # the console has read the draft; its UPDATE is the next statement
            imported.append(sync.import_package(station, package))

    event.listen(other.sessions, "before_flush", import_before_the_console_writes)
    try:
        with pytest.raises(InvalidInput) as refused:
            svc.update_details(other, draft, findings="站内：已电话核实")
        assert imported and imported[0].applied > 0 and imported[0].conflicts == 0
        assert refused.value.message == CHANGED_MEANWHILE
        with station.engine.connect() as conn:
            row = conn.execute(select(Inspection.findings, Inspection.version).where(Inspection.id == draft)).one()
        assert tuple(row) == ("笔记本：现场发现过期产品", 2)  # the import's, untouched
        svc.update_details(other, draft, findings="站内：已电话核实")  # made again: on top of it
        with station.engine.connect() as conn:
            row = conn.execute(select(Inspection.findings, Inspection.version).where(Inspection.id == draft)).one()
        assert tuple(row) == ("站内：已电话核实", 3)
        assert verify_chain(station).ok
    finally:
        event.remove(other.sessions, "before_flush", import_before_the_console_writes)
        other.close()
        station.close()
