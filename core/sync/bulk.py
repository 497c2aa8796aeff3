"""The bulk path of an import: records this machine has never seen, inserted in bulk.

``prefetch`` finds, per table in a few queries, the records that need no decision (not
here, never exchanged with the sender, no natural-key clash, no signed parent here);
``bulk_insert`` writes them with their chained audit entries and sync bases. Everything
else takes the careful path, record by record (``apply``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import LargeBinary, insert, select
from sqlalchemy.orm import Session

from core.audit import append_entries, checked_entry, inserted_entry
from core.sync.codec import record_values
from core.sync.package import Package
from core.sync.spec import BY_TABLE, INSPECTION_CHILDREN, NATURAL_KEYS
from core.sync.tombstones import tombstoned
from db.bulk import chunks, insert_json_rows, insert_tuples, select_in
from db.models import SyncTombstone


@dataclass
class Prefetch:
    """What the database knows about a package's records, read per table in a few queries."""

    new: dict[str, set[str]] = field(default_factory=dict)      # table → ids safe to bulk-insert
    clashes: dict[str, set[str]] = field(default_factory=dict)  # table → ids whose place is taken here


def prefetch(session: Session, pkg: Package, skip: set[str]) -> Prefetch:
    """Find the records that need no decision: not here, never exchanged, no clash, no signed parent.

    A brand-new record can be inserted as it is; everything else takes the careful path
    (``apply._apply_record``) record by record.
    """
    sender = pkg.manifest["device_id"]
    plan = Prefetch()
    ids = {t: [r["id"] for r in pkg.records.get(t, ())] for t in BY_TABLE if t != "template_snapshots"}
    parents = {r.get("inspection_id") for t in INSPECTION_CHILDREN for r in pkg.records.get(t, ())} - {None}
    parents |= set(ids.get("inspections", ()))
    # the tables with deletions kept here (usually none): only those are looked up per id
    deleted_tables = set(session.scalars(select(SyncTombstone.table_name).distinct()))
    # plain SQL on the session's connection (no ORM result processing, no statement compiling)
    connection = session.connection()
    # by primary key, status filtered here: "AND status = 'signed'" in SQL makes SQLite
    # walk the status index — every signed inspection of the station per chunk
    signed_here = {i for i, status in select_in(connection, "SELECT id, status FROM inspections WHERE", "id",
                                                 sorted(parents)) if status == "signed"}
    for table, table_ids in ids.items():
        if not table_ids or table in skip:
            continue
        known = {i for (i,) in select_in(connection, f'SELECT id FROM "{table}" WHERE', "id", table_ids)}
        known.update(i for (i,) in select_in(
            connection, "SELECT record_id FROM sync_base WHERE peer_id = {p} AND table_name = {p} AND", "record_id",
            table_ids, (sender, table)))
        if table in deleted_tables:
            known |= tombstoned(session, table, table_ids)  # deleted here: decided one by one
        clashes = set()
        if table in NATURAL_KEYS:
            columns = NATURAL_KEYS[table]
            owners = sorted({r["inspection_id"] for r in pkg.records[table]})
            names = ", ".join(f'"{c}"' for c in columns)
            taken = {tuple(row[1:]): row[0] for row in select_in(
                connection, f'SELECT id, {names} FROM "{table}" WHERE', "inspection_id", owners)}
            clashes = {r["id"] for r in pkg.records[table]
                       if taken.get(tuple(r.get(c) for c in columns)) not in (None, r["id"])}
        plan.clashes[table] = clashes
        group = table == "inspections" or table in INSPECTION_CHILDREN
        plan.new[table] = {
            r["id"] for r in pkg.records[table]
            if r["id"] not in known and r["id"] not in clashes
            and not (group and (r["id"] if table == "inspections" else r.get("inspection_id")) in signed_here)
        }
    return plan


def bulk_insert(session: Session, pkg: Package, plan: Prefetch, blobs: dict[str, bytes]) -> int:
    """Insert the brand-new records in bulk, with their audit entries and bases; returns their count.

    The JSON values go to the driver's own executemany (SQLite, converted once to
    SQLAlchemy's storage formats) or to ``COPY … FROM STDIN`` (PostgreSQL) — no ORM objects,
    no per-row statement building: a big import costs seconds instead of minutes. Tables go
    parents first (``BY_TABLE`` order), after the records decided one by one are flushed; on
    PostgreSQL, whose foreign keys are checked at once, a record decided one by one whose
    parent is new here is refused with the whole package (the sender sends parents with
    their children; SQLite checks the keys at commit). The audit entries are chained exactly as the flush
    listener chains its own, so the trail shows every record the import added.
    """
    sender = pkg.manifest["device_id"]
    connection = session.connection()
    entries, bases, count = [], [], 0
    for table, new_ids in plan.new.items():
        if not new_ids:
            continue
        model = BY_TABLE[table]
        columns = list(model.__table__.columns)
        records = [r for r in pkg.records[table] if r["id"] in new_ids]
        keys = frozenset(c.key for c in columns)
        if not all(r.keys() == keys for r in records):
            # an older package without some column: let SQLAlchemy fill the defaults
            rows = [record_values(model, r, blobs) for r in records]
            for chunk in chunks(rows):
                session.execute(insert(model.__table__), chunk)
            entries += [inserted_entry(table, row) for row in rows]
        else:
            insert_json_rows(connection, model.__table__, records, blobs)
            binary = [c.key for c in columns if isinstance(c.type, LargeBinary)]
            if binary and blobs:
                # as the flush listener logs a stored blob; none is stored when the image went to a file
                records = [{**r, **{k: f"sha256:{r['sha256']}" for k in binary if r.get("sha256") in blobs}}
                           for r in records]
            entries += [checked_entry(table, r) for r in records]
        bases += [(sender, table, r["id"], r["version"]) for r in records]
        count += len(records)
    if entries:
        clock = session.info.get("clock")
        append_entries(connection, clock() if clock else datetime.now(), session.info["actor"], entries)
    insert_tuples(connection, "sync_base", ("peer_id", "table_name", "record_id", "version"), bases)
    return count
