"""检查家次 / 户数 over whole months from the per-month subject sets (SQLite; docs/statistics.md "Fifth round").

``stats_sets`` (``db.stats_summary``) holds, per (month, station, breakdown, key), the number of
signed inspections and the set of their subjects — each subject a small stable integer
(``stats_subject_keys``), the set a bitmap when dense (``D`` + little-endian bits) or a sorted
uint32 array when sparse (``S`` + the array). 户数 is not additive over months, but sets are: a
period's 户数 in a cell is the size of the union of its months' sets, 家次 the sum of their counts.
The months at a range's ends that the period covers only in part are collected from the records
by the same code, into the same sets.

The database's triggers mark the month of every change that can alter a figure (``stats_dirty``);
``figure_rows`` recomputes the period's dirty months from the records, in one write transaction
with the read, before it reads them — so what it returns is always what counting the records
gives (tests/integration/test_stats_summary.py). ``rebuild`` recomputes every month. The summary
is derived data: never synced, never audited; reading it may write it (a dirty month recomputed),
nothing else. Where it cannot be used (PostgreSQL, no summary tables, no whole month in the period,
the database busy or read-only) ``figure_rows`` returns None and the caller counts from the records.
"""
from __future__ import annotations

from array import array
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Callable, Iterator

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import OperationalError

from core.stats.common import DIMENSIONS, inspections_query, register_condition, signed_in
from core.stats.period import Period
from db import stats_summary as schema
from db.models import Inspection, InspectionOfficer, Subject

KEYS = Table(schema.KEYS, MetaData(), Column("key", Integer, primary_key=True), Column("subject_id", String(36)))
# the breakdowns kept per month (by_station is read from by_kind: every record has one kind key)
ROW_DIMS = ("by_domain", "by_category", "by_grid", "by_kind", "by_origin", "by_month")
DIMS = (*ROW_DIMS, "by_inspector")
_MONTH = func.coalesce(DIMENSIONS["by_month"], "")
_STATION = func.coalesce(DIMENSIONS["by_station"], "")

Cells = dict  # (month, station, dim, key) -> [inspections, set of subject keys]


def _month_period(month: str) -> Period | None:
    try:
        year, number = int(month[:4]), int(month[5:7])
        first = date(year, number, 1)
    except ValueError:
        return None
    following = date(year + (number == 12), number % 12 + 1, 1)
    return Period(first, following - timedelta(days=1), "month")


def whole_months(period: Period) -> list[str]:
    """The months (YYYY-MM) that lie wholly inside ``period``."""
    out = []
    first = date(period.start.year, period.start.month, 1)
    while first <= period.end:
        month = _month_period(f"{first.year:04d}-{first.month:02d}")
        if month.start >= period.start and month.end <= period.end:
            out.append(f"{first.year:04d}-{first.month:02d}")
        first = month.end + timedelta(days=1)
    return out


def _collect(conn, period: Period, key_of: Callable[[str, int | None], int]) -> Cells:
    """Every (month, station, breakdown, key) cell of ``period``'s signed inspections, from the records,
    with the expressions the figure counts with (``common.DIMENSIONS``)."""
    cells: Cells = {}

    def add(month, station, dim, key, subject):
        cell = cells.get((month, station, dim, key))
        if cell is None:
            cells[(month, station, dim, key)] = cell = [0, set()]
        cell[0] += 1
        cell[1].add(subject)

    columns = [Inspection.id, Inspection.subject_id, KEYS.c.key, _MONTH, _STATION,
               *(func.coalesce(DIMENSIONS[d], "") for d in ROW_DIMS)]
    query = inspections_query(columns, period).outerjoin(KEYS, KEYS.c.subject_id == Inspection.subject_id)
    where: dict[str, tuple] = {}  # inspection id -> (month, station, subject)
    for inspection_id, subject_id, key, month, station, *values in conn.execute(query):
        subject = key_of(subject_id, key)
        where[inspection_id] = (month, station, subject)
        for dim, value in zip(ROW_DIMS, values):
            add(month, station, dim, value, subject)
    # the officers of the same inspections (an inspection counts once per name, as COUNT(DISTINCT) does)
    officers = (select(Inspection.id, func.coalesce(InspectionOfficer.name, "")).select_from(Inspection)
                .join(InspectionOfficer, InspectionOfficer.inspection_id == Inspection.id).where(signed_in(period))
                .distinct())
    for inspection_id, name in conn.execute(officers):
        found = where.get(inspection_id)
        if found is not None:
            add(found[0], found[1], "by_inspector", name, found[2])
    return cells


def _encode(members: set[int]) -> bytes:
    top = max(members)
    width = top // 8 + 1
    if len(members) * 4 < width:
        return b"S" + array("I", sorted(members)).tobytes()
    bits = bytearray(width)
    for i in members:
        bits[i >> 3] |= 1 << (i & 7)
    return b"D" + bytes(bits)


def _stored_key(subject_id: str, key: int | None) -> int:
    if key is None:  # pragma: no cover - _recompute gives every subject of the month a key first
        raise RuntimeError(f"subject {subject_id} has no summary key")
    return key


def _recompute(conn, month: str) -> None:
    """One month's sets from the records (its dirty mark removed)."""
    conn.exec_driver_sql(f"DELETE FROM {schema.DIRTY} WHERE month = ?", (month,))
    conn.exec_driver_sql(f"DELETE FROM {schema.SETS} WHERE month = ?", (month,))
    period = _month_period(month)
    if period is None:
        return
    conn.execute(insert(KEYS).prefix_with("OR IGNORE").from_select(
        ["subject_id"], select(Inspection.subject_id).where(signed_in(period)).distinct()))
    cells = _collect(conn, period, _stored_key)
    rows = [(m, station, dim, key, n, _encode(members)) for (m, station, dim, key), (n, members) in cells.items()]
    if rows:
        conn.exec_driver_sql(f"INSERT INTO {schema.SETS} (month, station, dim, key, n, members) "
                             "VALUES (?, ?, ?, ?, ?, ?)", rows)


def rebuild(session) -> int:
    """Every month's sets again from the records (the caller commits); returns the months built.

    What a tampered or stale summary, or one built by an older rule, needs; also
    ``python main.py stats rebuild-summary --db PATH``. Nothing on PostgreSQL."""
    conn = session.connection()
    if conn.dialect.name != "sqlite" or not _present(conn):
        return 0
    conn.exec_driver_sql(f"DELETE FROM {schema.SETS}")
    conn.exec_driver_sql(f"DELETE FROM {schema.DIRTY}")
    conn.exec_driver_sql(f"DELETE FROM {schema.KEYS}")
    months = [m for (m,) in conn.exec_driver_sql(
        "SELECT DISTINCT substr(signed_at, 1, 7) FROM inspections WHERE status = 'signed' AND signed_at IS NOT NULL")]
    for month in months:
        _recompute(conn, month)
    return len(months)


def _present(conn) -> bool:
    return conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?)",
                                schema.TABLES).scalar() == len(schema.TABLES)


@contextmanager
def _transaction(engine, immediate: bool) -> Iterator:
    """A connection of its own in an explicit SQLite transaction (one snapshot for the read; with
    ``immediate`` the write lock from the start), committed at the end."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        saved = raw.isolation_level
        raw.isolation_level = None  # the driver's own BEGIN handling off: ours below
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        finally:
            raw.isolation_level = saved


def _read(conn, period: Period, months: list[str], several: bool) -> dict[str, list[tuple]]:
    """The figure's rows per breakdown — (key, inspections, households) — from the months' sets and, for
    the part-months at the ends, from the records."""
    acc, _fresh, _top = _accumulate(conn, period, months, several)
    out: dict[str, list[tuple]] = {name: [] for name in (*DIMS, "by_station")}
    for (dim, key), (n, bits, parts) in acc.items():
        if not bits and len(parts) == 1:  # one month's sparse set (always so by month): its size
            households = len(parts[0])
        elif not bits:
            households = len(set().union(*parts))
        else:
            households = _bitmap(bits, parts).bit_count()
        out[dim].append((key, n, households))
    return out


def _bitmap(bits: int, parts: list) -> int:
    """One set as a bitmap: ``bits`` with every member of the sparse ``parts`` added."""
    for i in set().union(*parts):
        bits |= 1 << i
    return bits


def _accumulate(conn, period: Period, months: list[str], several: bool):
    """(dim, key) → [inspections, bitmap int, sparse parts] over the months' sets and the part-months
    at the ends (counted from the records), the keys given there to subjects without one yet, and the
    highest key any set can hold."""
    wanted = None
    if period.stations:  # the station keys counted: the names chosen, '' for this database's own station
        wanted = set(period.stations) | ({""} if period.exclude else set())
    acc: dict[tuple[str, str], list] = {}  # (dim, key) -> [inspections, bitmap int, sparse parts]

    def cell(dim, key):
        found = acc.get((dim, key))
        if found is None:
            acc[(dim, key)] = found = [0, 0, []]
        return found

    # the driver's cursor: ~20,000 rows a year at city scale, SQLAlchemy's row objects cost a third of the read
    for station, dim, key, n, blob in conn.connection.driver_connection.execute(
            f"SELECT station, dim, key, n, members FROM {schema.SETS} WHERE month BETWEEN ? AND ?",
            (months[0], months[-1])).fetchall():
        if wanted is not None and station not in wanted:
            continue
        targets = [cell(dim, key)]
        if several and dim == "by_kind":
            targets.append(cell("by_station", station))
        for target in targets:
            target[0] += n
            if blob[:1] == b"D":
                target[1] |= int.from_bytes(blob[1:], "little")
            elif blob[:1] == b"S" and len(blob) % 4 == 1:
                target[2].append(array("I", blob[1:]))
            else:
                raise Malformed(f"{schema.SETS}: a set of {len(blob)} bytes")
    # the part-months at the range's ends, from the records; a subject without a key yet is in no stored set
    top = conn.exec_driver_sql(f"SELECT coalesce(max(key), 0) FROM {schema.KEYS}").scalar()
    fresh: dict[str, int] = {}

    def key_of(subject_id: str, key: int | None) -> int:
        if key is not None:
            return key
        return fresh.setdefault(subject_id, top + 1 + len(fresh))

    first, last = _month_period(months[0]), _month_period(months[-1])
    ends = [p for p in (Period(period.start, first.start - timedelta(days=1)) if period.start < first.start else None,
                        Period(last.end + timedelta(days=1), period.end) if period.end > last.end else None) if p]
    for part in ends:
        for (_month, station, dim, key), (n, members) in _collect(conn, part, key_of).items():
            if wanted is not None and station not in wanted:
                continue
            for target in [cell(dim, key)] + ([cell("by_station", station)] if several and dim == "by_kind" else []):
                target[0] += n
                target[2].append(members)
    return acc, fresh, top + len(fresh)


class Malformed(Exception):
    """A stored set that is neither encoding: the summary is not used (``rebuild`` repairs it)."""


def figure_rows(session, period: Period, several: bool) -> dict[str, list[tuple]] | None:
    """检查家次 / 户数 rows per breakdown from the summary, its dirty months recomputed first; None where
    the summary cannot be used (the caller then counts from the records)."""
    return _from_summary(session, period, lambda conn, months: _read(conn, period, months, several))


def coverage_rows(session, period: Period) -> dict[str, int] | None:
    """覆盖率's numerator from the summary: category → register subjects (``register_condition``) in
    the period's subject sets of that category. None where the summary cannot be used."""
    return _from_summary(session, period, lambda conn, months: _covered(conn, period, months))


def _covered(conn, period: Period, months: list[str]) -> dict[str, int]:
    acc, fresh, top = _accumulate(conn, period, months, False)
    register: dict[str, bytearray] = {}
    for category, subject_id, key in conn.execute(
            select(Subject.category, Subject.id, KEYS.c.key).outerjoin(KEYS, KEYS.c.subject_id == Subject.id)
            .where(register_condition(period))):
        key = key if key is not None else fresh.get(subject_id)
        if key is not None:  # a subject without a key, not met at the ends, is in no set: not inspected
            mask = register.setdefault(category, bytearray(top // 8 + 1))
            mask[key >> 3] |= 1 << (key & 7)
    out: dict[str, int] = {}
    for (dim, category), (_n, bits, parts) in acc.items():
        if dim == "by_category" and category in register:
            out[category] = (_bitmap(bits, parts) & int.from_bytes(register[category], "little")).bit_count()
    return out


def _from_summary(session, period: Period, read):
    if session.connection().dialect.name != "sqlite":
        return None
    months = whole_months(period)
    if not months:
        return None
    engine = session.get_bind()
    try:
        with _transaction(engine, immediate=False) as conn:
            if not _present(conn):
                return None
            if not _dirty(conn, months):
                return read(conn, months)
        with _transaction(engine, immediate=True) as conn:
            for month in _dirty(conn, months):
                _recompute(conn, month)
            return read(conn, months)
    except (OperationalError, Malformed):  # busy past the timeout, read-only, damaged: count from the records
        return None


def _dirty(conn, months: list[str]) -> list[str]:
    return [m for (m,) in conn.exec_driver_sql(f"SELECT month FROM {schema.DIRTY} WHERE month BETWEEN ? AND ?",
                                               (months[0], months[-1]))]
