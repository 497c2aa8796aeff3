"""The export's reading, set-based: the ids to send in a temporary table, each question one join.

Record by record (``changes.rows_of``: chunks of 500 ids in an ``IN (…)``, each compiled and run
on its own) a 10,000-inspection export ran ~1,800 statements, and the missing-parent walk read
every changed row a second time. Here the ids go into ``sync_export_ids`` once (executemany on
SQLite, ``COPY`` on PostgreSQL), and then each table costs a few statements joined to it: which
parents the peer may lack (``add_missing_parents``), the rows themselves (``read_rows``), and the
``sync_base`` rows that record what was sent (``write_bases``, one ``INSERT … SELECT`` a table).
On SQLite the rows are read by plain SQL, their times made ISO text by SQLite (``_sqlite_rows``).

What the export guarantees is unchanged (``tests/integration/test_sync_export_sets.py`` compares
both ways): every changed record once, parents the peer lacks added (an inspection whole, with its
children), the same rows, the same lines and order. The temporary table lives only inside the
export's transaction (dropped at its end, or by the rollback if it fails).
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Iterator

from sqlalchemy import (
    Boolean, Column, Date, DateTime, Integer, LargeBinary, MetaData, PrimaryKeyConstraint, String, Table, Text, and_, exists,
    insert, literal, select, text,
)

from core.signing import sha256_hex
from core.sync.changes import changed_query
from core.sync.spec import AUDITED_TABLES, BY_TABLE, INSPECTION_CHILDREN
from db.bulk import insert_tuples
from db.models import SyncBase

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

IDS = Table(
    "sync_export_ids", MetaData(),
    Column("table_name", Text, nullable=False), Column("record_id", Text, nullable=False),
    Column("round", Integer, nullable=False),  # 0: changed; n: added by the n-th missing-parent round
    PrimaryKeyConstraint("table_name", "record_id"), prefixes=["TEMPORARY"])


@contextmanager
def export_ids(session: Session, since: int, upto: int, *, imported: bool,
               from_above: bool) -> Iterator[dict[str, set[str]]]:
    """``changes.changed_since`` run straight into ``sync_export_ids`` (round 0) by one
    ``INSERT … SELECT``, and read back as table → ids; the table lives for the block."""
    connection = session.connection()
    connection.execute(text("DROP TABLE IF EXISTS sync_export_ids"))
    IDS.create(connection)
    connection.execute(insert(IDS).from_select(["table_name", "record_id", "round"], changed_query(
        since, upto, imported=imported, from_above=from_above, extra=(literal(0, Integer),))))
    changed: dict[str, set[str]] = {}
    for table, record_id in connection.execute(select(IDS.c.table_name, IDS.c.record_id)).all():
        changed.setdefault(table, set()).add(record_id)
    yield changed
    # dropped here; if the block fails, the rollback takes the table away with everything else
    # (DDL is transactional on SQLite and PostgreSQL; a drop in a failed PostgreSQL transaction
    # would only hide the error)
    connection.execute(text("DROP TABLE sync_export_ids"))


def reload_ids(session: Session, changed: dict[str, set[str]]) -> None:
    """Make the table ``changed`` again, after something took records out of it."""
    session.connection().execute(IDS.delete())
    _add(session, changed, 0)


def _add(session: Session, ids: dict[str, set[str]], round_: int) -> None:
    insert_tuples(session.connection(), IDS.name, ("table_name", "record_id", "round"),
                  [(table, record_id, round_) for table in sorted(ids) for record_id in sorted(ids[table])])


def _links(table: str) -> list[tuple[str, str]]:
    """(column, parent table) of each foreign key of ``table`` to an audited table."""
    return [(c.key, fk.column.table.name) for c in BY_TABLE[table].__table__.columns for fk in c.foreign_keys
            if fk.column.table.name in AUDITED_TABLES]


def _joined(table: str, round_: int | None = None):
    """``table`` joined to its rows in ``sync_export_ids`` (of one round, or all)."""
    model = BY_TABLE[table].__table__
    on = and_(IDS.c.table_name == table, IDS.c.record_id == model.c.id)
    if round_ is not None:
        on = and_(on, IDS.c.round == round_)
    return model, model.join(IDS, on)


def add_missing_parents(session: Session, peer: str, changed: dict[str, set[str]]) -> None:
    """The missing-parent walk, a few statements a table: every record an exported row
    refers to that the peer may lack (not being sent, no ``sync_base`` row for the peer) joins
    ``changed``, and an inspection added so comes whole, with its child rows."""
    connection = session.connection()
    round_, pending = 0, set(changed)
    while pending:
        added: dict[str, set[str]] = {}

        def add(table: str, record_id: str) -> None:
            if record_id not in changed.setdefault(table, set()):
                changed[table].add(record_id)
                added.setdefault(table, set()).add(record_id)

        found: list[tuple[str, str]] = []
        sent = IDS.alias("sent")  # the parent among the ids (not correlated with the joined child's)
        for table in sorted(pending):
            model, joined = _joined(table, round_)
            for column, parent in _links(table):
                value = model.c[column]
                query = (select(value).distinct().select_from(joined).where(
                    value.is_not(None), value != "",
                    ~exists().where(sent.c.table_name == parent, sent.c.record_id == value),
                    ~exists().where(SyncBase.peer_id == peer, SyncBase.table_name == parent,
                                    SyncBase.record_id == value)))
                found.extend((parent, v) for (v,) in connection.execute(query))
        for parent, value in found:
            add(parent, value)
        _add(session, added, round_ + 1)
        inspections = added.get("inspections")
        if inspections:
            children: dict[str, set[str]] = {}
            for child in sorted(INSPECTION_CHILDREN):
                child_table = BY_TABLE[child].__table__
                query = select(child_table.c.id).select_from(child_table.join(IDS, and_(
                    IDS.c.table_name == "inspections", IDS.c.record_id == child_table.c.inspection_id,
                    IDS.c.round == round_ + 1)))
                for (child_id,) in connection.execute(query):
                    if child_id not in changed.setdefault(child, set()):
                        children.setdefault(child, set()).add(child_id)
            for child, ids in children.items():
                for child_id in ids:
                    add(child, child_id)
            _add(session, children, round_ + 1)
        round_ += 1
        pending = set(added)


def read_rows(session: Session, table: str, ids: set[str]) -> Iterator[tuple[dict[str, Any], dict[str, bytes]]]:
    """Every row of ``table`` in ``sync_export_ids`` (``ids``: the same ids), as ``codec.to_json``
    makes it (ISO text for dates and times, a binary value as an attachment named by its SHA-256
    and ``None`` in the record, the rest as it is), ordered by id."""
    model = BY_TABLE[table].__table__
    keys = [c.key for c in model.columns]
    rows = None
    if session.connection().dialect.name == "sqlite" and all(isinstance(c.type, _PLAIN) for c in model.columns):
        rows = _sqlite_rows(session, model, ids)
    if rows is None:
        rows = [_to_json_values(row) for row in session.connection().execute(
            select(*model.columns).select_from(_joined(table)[1])).all()]
    rows.sort(key=itemgetter(keys.index("id")))
    binaries = [i for i, c in enumerate(model.columns) if isinstance(c.type, LargeBinary)]
    for row in rows:
        attachments: dict[str, bytes] = {}
        for i in binaries:
            value = row[i]
            if isinstance(value, bytes):
                attachments[f"attachments/{sha256_hex(value)}.png"] = value
                row = (*row[:i], None, *row[i + 1:])
        yield dict(zip(keys, row)), attachments


def _to_json_values(row) -> tuple:
    """A row read through SQLAlchemy, its dates and times as ISO text (``codec.to_json``)."""
    return tuple(value.isoformat() if isinstance(value, (datetime, date)) else value for value in row)


# Column types whose SQLite value is what SQLAlchemy would give (no result processor), besides
# dates and times, which SQL turns into ISO text below, and booleans (stored 0/1, made bool
# here); a table with any other type is read through SQLAlchemy.
_PLAIN = (String, Text, Integer, LargeBinary, DateTime, Date, Boolean)
_D2, _D4, _D6 = "[0-9]" * 2, "[0-9]" * 4, "[0-9]" * 6
# how SQLAlchemy stores a DATETIME in SQLite ("2027-01-04 08:46:10.000000") and a DATE
_TIME_GLOB = f"{_D4}-{_D2}-{_D2} {_D2}:{_D2}:{_D2}.{_D6}"
_DATE_GLOB = f"{_D4}-{_D2}-{_D2}"


def _sqlite_rows(session: Session, model, ids: set[str]) -> list[tuple] | None:
    """The rows by one plain SQL statement, dates and times made ISO text by SQLite itself
    (``datetime.isoformat()``: "T", no fraction when it is zero): SQLAlchemy's result processors
    (text → datetime) and ``isoformat`` were half the reading. A value not in the stored form
    SQLAlchemy writes (a hand-made row) sends the table through SQLAlchemy (None)."""
    columns, odd = [], []
    for c in model.columns:
        name = f't."{c.name}"'
        if isinstance(c.type, DateTime):
            columns.append(f"CASE WHEN {name} GLOB '{_TIME_GLOB}' THEN substr({name}, 1, 10) || 'T' || "
                           f"CASE WHEN substr({name}, 21) = '000000' THEN substr({name}, 12, 8) "
                           f"ELSE substr({name}, 12) END END")
            odd.append(f"({name} IS NOT NULL AND NOT {name} GLOB '{_TIME_GLOB}')")
        elif isinstance(c.type, Date):
            columns.append(name)
            odd.append(f"({name} IS NOT NULL AND NOT {name} GLOB '{_DATE_GLOB}')")
        else:
            columns.append(name)
    flag = " OR ".join(odd) or "0"
    many = len(ids) * 2 >= (session.connection().exec_driver_sql(
        f'SELECT max(rowid) FROM "{model.name}"').scalar() or 0)
    if many:  # (nearly) the whole table: one scan, the ids picked here
        sql = f'SELECT {", ".join(columns)}, {flag} FROM "{model.name}" t'
    else:
        sql = (f'SELECT {", ".join(columns)}, {flag} FROM "{model.name}" t JOIN sync_export_ids x '
               f"ON x.table_name = '{model.name}' AND x.record_id = t.id")
    rows = session.connection().exec_driver_sql(sql).fetchall()
    at = [c.key for c in model.columns].index("id")
    if many:
        rows = [row for row in rows if row[at] in ids]
    if any(row[-1] for row in rows):
        return None
    flags = [i for i, c in enumerate(model.columns) if isinstance(c.type, Boolean)]
    if flags:  # as SQLAlchemy's processor: None stays None, 0/1 become False/True
        rows = [list(row) for row in rows]
        for row in rows:
            for i in flags:
                if row[i] is not None:
                    row[i] = bool(row[i])
    return rows


def write_bases(session: Session, peer: str, tables: list[str]) -> None:
    """``sync_base`` := the current version, for ``peer``, of every row of ``tables`` in
    ``sync_export_ids`` (what was just sent): one ``INSERT … SELECT … ON CONFLICT`` a table."""
    connection = session.connection()
    for table in tables:
        model = BY_TABLE[table].__table__
        if "version" not in model.c:
            continue
        # "WHERE true": SQLite's parser needs it between a join's ON and the upsert's ON CONFLICT
        connection.execute(text(
            f'INSERT INTO sync_base (peer_id, table_name, record_id, version) '
            f'SELECT :peer, :table, t.id, t.version FROM "{table}" t JOIN sync_export_ids x '
            f'ON x.table_name = :table AND x.record_id = t.id WHERE true '
            f'ON CONFLICT (peer_id, table_name, record_id) DO UPDATE SET version = excluded.version'),
            {"peer": peer, "table": table})
