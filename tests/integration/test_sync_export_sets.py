"""The set-based export (core/sync/export_sets.py) against the record-by-record way it replaced.

One mixed change set at a station, on SQLite and on a real PostgreSQL: laptop A's signed
inspection received (never echoed back to A), a station edit of a task for that inspection
(laptop B lacks its parents: the inspection comes whole), an edited subject, a deleted subject B
had (a tombstone), a new subject, a new inspector (a user with a boolean, an officer's key). Compared: the records the missing-parent walk adds, the rows
read (each table, and a row whose time is not in SQLAlchemy's stored form), what each package
carries (every changed record exactly once) and ``sync_base`` after the export.
"""
from __future__ import annotations

import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core import sync
from core.context import AppContext
from core.deletions import delete_subject
from core.inspectors import add_inspector
from core.subjects import SubjectData, add_subject, get_subject, update_subject
from core.sync import export_sets
from core.sync.changes import changed_since, peer_has, rows_of, watermark
from core.sync.spec import AUDITED_TABLES, BY_TABLE, INSPECTION_CHILDREN
from core.sync import export
from core.sync.codec import dump, lines_bytes, to_json
from core.sync.spec import MODELS
from core.users import LAPTOP_ROLES
from db.models import InspectionTask, SyncBase, User
from tests.conftest import OFFICERS_DATA
from tests.integration.helpers import register_officers
from tests.integration.test_sync import enrolled_laptop, inspect_offline, pull_master_data
from tests.integration.test_tombstones import SHOP, tombstones_in
from core import inspections as svc


# --- the record-by-record walk the set-based one replaced: the reference it is checked against ---

def add_missing_parents(session, peer: str, changed: dict[str, set[str]]) -> None:
    """Add to ``changed`` every record an exported row refers to that the peer may lack.

    The station forwards no laptop's records to another laptop, but its own later edit
    (say, of a task made on laptop A for A's inspection) goes to every laptop: laptop B
    must receive the inspection it refers to, or the foreign key fails and B's import is
    refused for good. "The peer has it" = it was sent to or received from the peer
    (``sync_base``). An inspection added this way comes whole, with its child rows.
    """
    pending = {table: set(ids) for table, ids in changed.items()}
    while pending:
        added: dict[str, set[str]] = {}

        def add(table: str, record_id: str) -> None:
            if record_id not in changed.setdefault(table, set()):
                changed[table].add(record_id)
                added.setdefault(table, set()).add(record_id)

        referred: dict[str, set[str]] = {}  # parent table → ids referred to, not being sent already
        for table, ids in pending.items():
            model = BY_TABLE[table]
            links = [(c.key, fk.column.table.name) for c in model.__table__.columns for fk in c.foreign_keys
                     if fk.column.table.name in AUDITED_TABLES]
            if not links:
                continue
            # only the id and the linking columns: the whole rows are read once, by the export
            for row in rows_of(session, model, sorted(ids), columns=("id", *{c for c, _p in links})):
                for column, parent in links:
                    value = row[column]
                    if value and value not in changed.get(parent, ()):
                        referred.setdefault(parent, set()).add(value)
        for parent, values in referred.items():
            for value in values - peer_has(session, peer, parent, values):
                add(parent, value)
        for inspection_id in sorted(added.get("inspections", ())):
            for child in sorted(INSPECTION_CHILDREN):
                child_table = BY_TABLE[child].__table__
                for (child_id,) in session.execute(select(child_table.c.id).where(
                        child_table.c.inspection_id == inspection_id)):
                    add(child, child_id)
        pending = added


def old_members(ctx: AppContext, session, changed: dict[str, set[str]]) -> dict[str, bytes]:
    """The records members as the export built them record by record before (``rows_of`` +
    ``to_json`` + the hook + ``json`` lines, grouped by inspection): the bytes the new export
    (tuples in sorted column order, msgspec lines) must write unchanged."""
    may_log_in = frozenset(session.scalars(select(User.id).where(User.active.is_(True), User.role.in_(LAPTOP_ROLES))))
    before, groups, after, snapshots = [], {}, [], set()
    tables = list(sync.BY_TABLE)
    for model in MODELS:
        table = model.__tablename__
        if table == "template_snapshots" or not changed.get(table):
            continue
        for row in rows_of(session, model, sorted(changed[table])):
            record, attachments = export._record_of(ctx, table, *to_json(table, dict(row)), may_log_in)
            item = (table, dump(record))
            if table == "inspections":
                snapshots.add(record["template_sha"])
                groups.setdefault(record["id"], []).append(item)
            elif table in INSPECTION_CHILDREN:
                groups.setdefault(record["inspection_id"], []).append(item)
            else:
                (before if tables.index(table) < tables.index("inspections") else after).append([item])
    first = [("template_snapshots", dump(to_json("template_snapshots", dict(row))[0]))
             for row in rows_of(session, sync.BY_TABLE["template_snapshots"], sorted(snapshots), key="sha256")]
    lines: dict[str, list[str]] = {}
    for unit in [first, *before, *groups.values(), *after]:
        for table, line in unit:
            lines.setdefault(table, []).append(line)
    return {f"records/{t}.jsonl": ("\n".join(lines[t]) + "\n").encode("utf-8") for t in lines}


def members_of(paths: list[Path]) -> dict[str, bytes]:
    [path] = paths
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist() if name.startswith("records/")}


@pytest.fixture(params=["sqlite", "postgresql"])
def station(request, tmp_path):
    db = request.getfixturevalue("pg_server").create_database() if request.param == "postgresql" \
        else str(tmp_path / "station.db")
    ctx = AppContext.open(db, attachments_dir=tmp_path / "station-attachments")
    register_officers(ctx)
    yield ctx
    ctx.close()


def records_in(paths: list[Path]) -> Counter:
    """(table, id) → how many times the packages carry it."""
    seen: Counter = Counter()
    for path in paths:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("records/"):
                    table = name.removeprefix("records/").removesuffix(".jsonl")
                    seen.update((table, json.loads(line)["id"]) for line in zf.read(name).decode().splitlines()
                                if line and table != "template_snapshots")
    return seen


def mixed_changes(station: AppContext, tmp_path: Path):
    """Laptops A and B, and the mixed change set the station then holds for B (see the module)."""
    officers = [svc.OfficerData(n, c) for n, c in OFFICERS_DATA]
    kept = add_subject(station, SubjectData(name="驿城区保留的化妆品店", **SHOP))
    mistaken = add_subject(station, SubjectData(name="驿城区重复录入的店", **SHOP))
    laptop_a, _ = enrolled_laptop(station, tmp_path, "笔记本A")
    pull_master_data(station, laptop_a, tmp_path / "a1")
    inspection_id = inspect_offline(laptop_a, kept.id, officers, tmp_path)
    sync.import_packages(station, sync.export_packages(laptop_a, tmp_path / "a-up"))
    laptop_b, _ = enrolled_laptop(station, tmp_path, "笔记本B")
    pull_master_data(station, laptop_b, tmp_path / "b1")
    with station.transaction() as s:  # the station's edit of a task made for A's inspection
        task = s.scalar(select(InspectionTask).where(InspectionTask.rectification_id.is_not(None)))
        task.officers_json = '[["王建国", "41170021001"]]'
        task.version += 1
        task_id = task.id
    update_subject(station, kept.id, SubjectData(name="驿城区保留的化妆品店（已更名）", **SHOP))
    delete_subject(station, mistaken.id)
    fresh = add_subject(station, SubjectData(name="驿城区新登记的店", **SHOP))
    add_inspector(station, "李新来", "41170029999", password="new-officer-1")  # a user and an officer's key
    return laptop_a, laptop_b, {"inspection": inspection_id, "task": task_id, "kept": kept.id,
                                "mistaken": mistaken.id, "fresh": fresh.id}


def test_set_based_export_sends_what_the_record_by_record_one_did(station, tmp_path):
    laptop_a, laptop_b, ids = mixed_changes(station, tmp_path)
    peer = laptop_b.device_id
    with station.transaction() as s:
        since = watermark(s, peer)
        expected = changed_since(s, since, from_above=True)
        add_missing_parents(s, peer, expected)  # the record-by-record walk
        with export_sets.export_ids(s, since, None, imported=False, from_above=True) as changed:
            assert changed == changed_since(s, since, from_above=True)
            export_sets.add_missing_parents(s, peer, changed)
            assert changed == expected
            assert ids["inspection"] in changed["inspections"] and ids["task"] in changed["inspection_tasks"]
            assert len(changed["item_results"]) > 10 and changed["signatures"]  # the inspection came whole
            tables = [t for t in sync.BY_TABLE if changed.get(t)]
            assert len(tables) >= 8 and {"users", "officer_keys", "inspections"} <= set(tables)
            for table in tables:
                old = [to_json(table, dict(row)) for row in rows_of(s, sync.BY_TABLE[table], sorted(changed[table]))]
                assert list(export_sets.read_rows(s, table, changed[table])) == old, table
            # a time not in the form SQLAlchemy stores (a hand-made row): the same value either way
            s.execute(text("UPDATE subjects SET updated_at = '2027-01-04 08:00:00' WHERE id = :i"), {"i": ids["kept"]})
            [(record, _)] = [r for r in export_sets.read_rows(s, "subjects", changed["subjects"])
                             if r[0]["id"] == ids["kept"]]
            [(row,)] = [(dict(r),) for r in rows_of(s, sync.BY_TABLE["subjects"], [ids["kept"]])]
            assert record == to_json("subjects", row)[0] and record["updated_at"] == "2027-01-04T08:00:00"
    with station.transaction() as s:  # what B's package must hold, byte for byte (``old_members``)
        with export_sets.export_ids(s, since, None, imported=False, from_above=True) as changed:
            export_sets.add_missing_parents(s, peer, changed)
            expected_members = old_members(station, s, changed)
            if s.bind.dialect.name == "sqlite":  # a REAL in an INTEGER column (a hand-made row): by json
                was = s.scalar(text("SELECT version FROM inspection_tasks WHERE id = :i"), {"i": ids["task"]})
                s.execute(text("UPDATE inspection_tasks SET version = 1e300 WHERE id = :i"), {"i": ids["task"]})
                keys, rows, proven = export_sets.table_rows(s, "inspection_tasks", changed["inspection_tasks"])
                [(row, sure)] = [(r, p) for r, p in zip(rows, proven) if r[keys.index("id")] == ids["task"]]
                assert sure is False and proven.count(False) == 1
                assert b'"version":1e+300' in lines_bytes([dict(zip(keys, row))], [sure])[0]  # msgspec: 1e300
                s.execute(text("UPDATE inspection_tasks SET version = :v WHERE id = :i"), {"v": was, "i": ids["task"]})
        with export_sets.export_ids(s, watermark(s, laptop_a.device_id), None, imported=False,
                                    from_above=True) as changed:
            expected_to_a = old_members(station, s, changed)

    paths = sync.export_packages(station, tmp_path / "b2", peer=peer)
    assert len(expected_members) >= 8 and members_of(paths) == expected_members
    sent = records_in(paths)
    assert sent and max(sent.values()) == 1  # every changed record exactly once
    assert set(sent) == {(t, i) for t, rows in expected.items() for i in rows if (t, i) != ("subjects", ids["mistaken"])}
    assert [(t["table"], t["id"]) for p in paths for t in tombstones_in(p)] == [("subjects", ids["mistaken"])]
    with station.sessions() as s:
        bases = dict(((b.table_name, b.record_id), b.version) for b in s.scalars(
            select(SyncBase).where(SyncBase.peer_id == peer)))
        for table, record_id in sent:
            version = s.scalar(select(sync.BY_TABLE[table].version).where(sync.BY_TABLE[table].id == record_id))
            assert bases[(table, record_id)] == version, (table, record_id)
    assert sync.import_packages(laptop_b, paths).conflicts == 0
    with laptop_b.sessions() as s:  # B holds every record sent, at the station's version
        assert {(t, i): s.scalar(select(sync.BY_TABLE[t].version).where(sync.BY_TABLE[t].id == i))
                for t, i in sent} == {key: bases[key] for key in sent}
    assert get_subject(laptop_b, ids["kept"]).name.endswith("（已更名）")
    assert svc.load_inspection(laptop_b, ids["inspection"]).status == "signed"

    # laptop A made the inspection: only the station's own changes go back, nothing A sent
    to_a_paths = sync.export_packages(station, tmp_path / "a2", peer=laptop_a.device_id)
    assert members_of(to_a_paths) == expected_to_a
    to_a = records_in(to_a_paths)
    assert ("inspection_tasks", ids["task"]) in to_a and ("subjects", ids["fresh"]) in to_a
    assert not {t for t, _i in to_a} & {"inspections", "item_results", "signatures", "inspection_officers"}
    assert max(to_a.values()) == 1
    laptop_a.close()
    laptop_b.close()
