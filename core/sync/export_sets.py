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
from itertools import chain, groupby
from datetime import date, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Iterator

from sqlalchemy import (
    Boolean, Column, Date, DateTime, Integer, LargeBinary, MetaData, PrimaryKeyConstraint, String, Table, Text, and_, exists,
    insert, literal, select, text,
)

from core.signing import sha256_hex
from core.sync.codec import FAST_TYPES
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
    # on SQLite every entry's id, the repeats dropped by the key (INSERT OR IGNORE): a DISTINCT
    # built a second b-tree of the same ids (450k audit entries: 1.5 → 1.1 s)
    sqlite = connection.dialect.name == "sqlite"
    connection.execute(insert(IDS).prefix_with("OR IGNORE", dialect="sqlite").from_select(
        ["table_name", "record_id", "round"], changed_query(
            since, upto, imported=imported, from_above=from_above, extra=(literal(0, Integer),), distinct=not sqlite)))
    yield _read_ids(connection)
    # dropped here; if the block fails, the rollback takes the table away with everything else
    # (DDL is transactional on SQLite and PostgreSQL; a drop in a failed PostgreSQL transaction
    # would only hide the error)
    connection.execute(text("DROP TABLE sync_export_ids"))


def _read_ids(connection) -> dict[str, set[str]]:
    """table → ids of ``sync_export_ids``, in the order of its key (on SQLite by the driver's own
    cursor: plain tuples, no SQLAlchemy ``Row`` for each of maybe a million ids)."""
    query = select(IDS.c.table_name, IDS.c.record_id).order_by(IDS.c.table_name, IDS.c.record_id)
    if connection.dialect.name == "sqlite":
        rows = connection.connection.driver_connection.execute(str(query.compile(connection))).fetchall()
    else:
        rows = connection.execute(query).all()
    return {table: {record_id for _t, record_id in group} for table, group in groupby(rows, itemgetter(0))}


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
    and ``None`` in the record, the rest as it is), ordered by id; the keys in sorted order."""
    keys, rows, _proven = table_rows(session, table, ids)
    binaries = binary_columns(table, keys)
    for row in rows:
        record = dict(zip(keys, row))
        yield record, strip_binaries(record, binaries)


def binary_columns(table: str, keys: list[str]) -> list[str]:
    """Those of ``keys`` that are binary columns of ``table`` (signature PNGs)."""
    columns = BY_TABLE[table].__table__.columns
    return [key for key in keys if isinstance(columns[key].type, LargeBinary)]


def strip_binaries(record: dict[str, Any], binaries: list[str]) -> dict[str, bytes]:
    """The binary values of ``record`` as attachments named by their SHA-256, ``None`` in it."""
    attachments: dict[str, bytes] = {}
    for key in binaries:
        value = record[key]
        if isinstance(value, bytes):
            attachments[f"attachments/{sha256_hex(value)}.png"] = value
            record[key] = None
    return attachments


def table_rows(session: Session, table: str, ids: set[str]) -> tuple[list[str], list[tuple], list[bool]]:
    """The rows of ``read_rows`` as tuples: (the column keys in sorted order, the rows with their
    values in that order, ordered by id, and for each row whether every value is of
    ``codec.FAST_TYPES`` — or bytes in a binary column, made ``None`` by ``strip_binaries`` — so
    that ``codec.lines_bytes`` may take the fast way). The types are looked at once for the whole
    table (``set(map(type, …))``), row by row only when some value is of another type."""
    model = BY_TABLE[table].__table__
    columns = sorted(model.columns, key=lambda c: c.key)
    keys = [c.key for c in columns]
    binary = [i for i, c in enumerate(columns) if isinstance(c.type, LargeBinary)]
    plain = [i for i in range(len(columns)) if i not in binary]
    rows, types = None, None
    if session.connection().dialect.name == "sqlite" and all(isinstance(c.type, _PLAIN) for c in columns):
        rows = _sqlite_rows(session, model, columns, ids)
        types = _types(rows, plain)
        # bytes where text belongs: a value not in the stored form (marked so by the SQL) or a
        # hand-made BLOB — the table goes through SQLAlchemy, as before
        if bytes in types:
            rows = None
    if rows is None:
        rows = _to_json_rows(columns, session.connection().execute(
            select(*columns).select_from(_joined(table)[1])).all())
        types = _types(rows, plain)
    rows.sort(key=itemgetter(keys.index("id")))
    if types <= FAST_TYPES and _types(rows, binary) <= FAST_TYPES | {bytes}:
        return keys, rows, [True] * len(rows)
    allowed = [FAST_TYPES | {bytes} if i in binary else FAST_TYPES for i in range(len(columns))]
    return keys, rows, [all(type(v) in a for v, a in zip(row, allowed)) for row in rows]


def _types(rows: list[tuple], at: list[int]) -> set[type]:
    """The types of the values of ``rows`` at the positions ``at``."""
    if not at or not rows:
        return set()
    if len(at) == len(rows[0]):
        return set(map(type, chain.from_iterable(rows)))
    if len(at) == 1:
        return set(map(type, map(itemgetter(at[0]), rows)))
    return set(map(type, chain.from_iterable(map(itemgetter(*at), rows))))


def _to_json_rows(columns: list, rows: list) -> list[tuple]:
    """Rows read through SQLAlchemy, their dates and times as ISO text (``codec.to_json``). Only the
    columns that can hold one are looked at (a date or time column, or one of a type not known to
    give text, numbers, bytes or booleans): the other values are left as they are."""
    at = [i for i, c in enumerate(columns) if not isinstance(c.type, _NO_TIMES)]
    if not at:
        return [tuple(row) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for i in at:
            value = values[i]
            if isinstance(value, (datetime, date)):
                values[i] = value.isoformat()
        out.append(tuple(values))
    return out


_NO_TIMES = (String, Text, Integer, LargeBinary, Boolean)  # column types whose values are never a date or time


# Column types whose SQLite value is what SQLAlchemy would give (no result processor), besides
# dates and times, which SQL turns into ISO text below, and booleans (stored 0/1, made bool
# here); a table with any other type is read through SQLAlchemy.
_PLAIN = (String, Text, Integer, LargeBinary, DateTime, Date, Boolean)
_D2, _D4, _D6 = "[0-9]" * 2, "[0-9]" * 4, "[0-9]" * 6
# how SQLAlchemy stores a DATETIME in SQLite ("2027-01-04 08:46:10.000000") and a DATE
_TIME_GLOB = f"{_D4}-{_D2}-{_D2} {_D2}:{_D2}:{_D2}.{_D6}"
_DATE_GLOB = f"{_D4}-{_D2}-{_D2}"


def _sqlite_rows(session: Session, model, columns: list, ids: set[str]) -> list[tuple]:
    """The rows by one plain SQL statement, dates and times made ISO text by SQLite itself
    (``datetime.isoformat()``: "T", no fraction when it is zero): SQLAlchemy's result processors
    (text → datetime) and ``isoformat`` were half the reading. A date or time not in the stored
    form SQLAlchemy writes (a hand-made row) comes as an empty BLOB, which sends the table through
    SQLAlchemy (``table_rows``)."""
    selected = []
    for c in columns:
        name = f't."{c.name}"'
        if isinstance(c.type, DateTime):
            selected.append(f"CASE WHEN {name} GLOB '{_TIME_GLOB}' THEN substr({name}, 1, 10) || 'T' || "
                            f"CASE WHEN substr({name}, 21) = '000000' THEN substr({name}, 12, 8) "
                            f"ELSE substr({name}, 12) END WHEN {name} IS NOT NULL THEN x'' END")
        elif isinstance(c.type, Date):
            selected.append(f"CASE WHEN {name} GLOB '{_DATE_GLOB}' THEN {name} WHEN {name} IS NOT NULL THEN x'' END")
        else:
            selected.append(name)
    many = len(ids) * 2 >= (session.connection().exec_driver_sql(
        f'SELECT max(rowid) FROM "{model.name}"').scalar() or 0)
    if many:  # (nearly) the whole table: one scan, the ids picked here
        sql = f'SELECT {", ".join(selected)} FROM "{model.name}" t'
    else:
        sql = (f'SELECT {", ".join(selected)} FROM "{model.name}" t JOIN sync_export_ids x '
               f"ON x.table_name = '{model.name}' AND x.record_id = t.id")
    # the driver's own cursor: plain tuples (a SQLAlchemy ``Row`` a record was a fifth of the reading)
    rows = session.connection().connection.driver_connection.execute(sql).fetchall()
    at = [c.key for c in columns].index("id")
    if many:
        rows = [row for row in rows if row[at] in ids]
    flags = [i for i, c in enumerate(columns) if isinstance(c.type, Boolean)]
    if not flags:
        return rows
    # as SQLAlchemy's processor: None stays None, 0/1 become False/True
    out = []
    for row in rows:
        values = list(row)
        for i in flags:
            if values[i] is not None:
                values[i] = bool(values[i])
        out.append(tuple(values))
    return out


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
