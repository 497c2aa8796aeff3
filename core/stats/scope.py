"""The period's inspections, read once per report: a temporary table the work figures count from.

Every inspection figure starts from the same rows (``common.signed_in``: signed, signing time
in the period) with the same breakdown expressions (``common.DIMENSIONS``). Rather than each
figure scanning the inspections again and evaluating the origin's sub-queries again,
``period_table(session, period)`` fills the temporary table ``stats_period`` once per session
and period (one row per counted inspection, its breakdown keys already computed) and the
figures join to it. The drill-down keeps filtering the base tables with the very same
expressions, so a number and its list agree (tests/integration/test_stats.py checks both
against a straightforward count).

A temporary table lives in the connection (SQLite: in its own temp database, never the
station's file; PostgreSQL: ``CREATE TEMPORARY TABLE``): reading statistics writes nothing.
"""
from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, case, insert, literal, literal_column, text
from sqlalchemy.orm import Session

from core.stats.common import DIMENSIONS, inspections_query, register_condition
from core.stats.period import Period
from db.models import Inspection, ItemResult

_KEY = "stats_period"
CACHE_KIB = 65536  # SQLite page cache while counting, in KiB
BREAKDOWNS = ("by_domain", "by_category", "by_grid", "by_kind", "by_origin", "by_month", "by_station")
# SQLite looks the subject up in the covering ix_subjects_stats (migration 0016) only when told to:
# without statistics its planner prefers the primary key's index and then reads the wide row
_SUBJECT_JOIN = " JOIN subjects ON subjects.id = inspections.subject_id "
_SUBJECT_JOIN_INDEXED = " JOIN subjects INDEXED BY ix_subjects_stats ON subjects.id = inspections.subject_id "


def _table(dialect: str) -> Table:
    """One row per inspection counted in the period; the breakdowns except by_inspector (officers are many).

    ``row_key`` and ``subject_key`` are what the distinct counts count: on SQLite the inspection's and
    the subject's rowid (integers compare and sort faster than 36-character ids; one rowid per id, so
    the counts are the same), elsewhere the ids themselves."""
    key = Integer if dialect == "sqlite" else String(36)
    return Table(
        _KEY, MetaData(),
        Column("id", String(36), nullable=False),  # no key: rows go in signing order, unsorted by id
        Column("row_key", key, nullable=False),
        Column("subject_key", key, nullable=False),
        Column("template_sha", String(64), nullable=False),
        Column("by_domain", String(16)),
        Column("by_category", String(64)),
        Column("by_grid", String(200)),
        Column("by_kind", String(16)),
        Column("by_origin", String(16)),
        Column("by_month", String(7)),
        Column("by_station", String(200)),  # '' for this database's own station
        Column("in_register", Integer),  # 1: its subject is in the register coverage divides by
        prefixes=["TEMPORARY"],
    )


_TABLES = {"sqlite": _table("sqlite"), "other": _table("other")}
PERIOD = _TABLES["other"]

# "failed" as a literal, so that SQLite can use the partial index on failed results (migration 0009)
FAILED = ItemResult.result == literal_column("'fail'")


def period_table(session: Session, period: Period) -> Table:
    """``stats_period`` filled with ``period``'s counted inspections (built once per session and period)."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    table = _TABLES["sqlite" if sqlite else "other"]
    if session.info.get(_KEY) == period:
        return table
    connection.execute(text(f"DROP TABLE IF EXISTS {_KEY}"))
    table.create(connection)
    keys = ((literal_column("inspections.rowid"), literal_column("subjects.rowid")) if sqlite
            else (Inspection.id, Inspection.subject_id))
    # the station breakdown's sub-query only where the database holds several stations
    several = session.info.get(_STATIONS_KEY, False)
    dimensions = [DIMENSIONS[n] if n != "by_station" or several else literal("") for n in BREAKDOWNS]
    columns = [Inspection.id, *keys, Inspection.template_sha, *dimensions,
               case((register_condition(period), 1), else_=0)]
    statement = insert(table).from_select([c.name for c in table.columns], inspections_query(columns, period))
    if sqlite:
        # a page cache the size of what a year's statistics read (the default 2 MB re-reads the same
        # index pages from the OS cache); memory only, for this connection, nothing written
        connection.execute(text(f"PRAGMA cache_size = -{CACHE_KIB}"))
        _insert_indexed(connection, statement)
    else:
        connection.execute(statement)
    session.info[_KEY] = period
    return table


_STATIONS_KEY = "stats_several_stations"


def several_stations(session: Session, several: bool) -> None:
    """Say whether the database holds several stations' records (the by-station breakdown is filled)."""
    if session.info.get(_STATIONS_KEY) != several:
        session.info[_STATIONS_KEY] = several
        forget(session)


def _insert_indexed(connection, statement) -> None:
    """Run ``statement`` with the subject join through ix_subjects_stats (SQLAlchemy renders no SQLite
    table hints, so the compiled text gets ``INDEXED BY``); as compiled if the join is not found once."""
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    sql = str(compiled)
    params = compiled.construct_params()
    processors = compiled._bind_processors
    args = tuple(processors[name](params[name]) if name in processors else params[name]
                 for name in compiled.positiontup)
    if sql.count(_SUBJECT_JOIN) != 1:
        connection.execute(statement)
        return
    connection.exec_driver_sql(sql.replace(_SUBJECT_JOIN, _SUBJECT_JOIN_INDEXED), args)


def forget(session: Session) -> None:
    """Build the table again on next use (the benchmark times each figure from scratch)."""
    session.info.pop(_KEY, None)
