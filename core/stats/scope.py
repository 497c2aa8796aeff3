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

from sqlalchemy import Column, Integer, MetaData, String, Table, case, insert, literal_column, text
from sqlalchemy.orm import Session

from core.stats.common import DIMENSIONS, inspections_query, register_condition
from core.stats.period import Period
from db.models import Inspection, ItemResult

_KEY = "stats_period"
_metadata = MetaData()

# one row per inspection counted in the period; the breakdowns except by_inspector (officers are many per record)
PERIOD = Table(
    _KEY, _metadata,
    Column("id", String(36), nullable=False),  # no key: rows go in signing order, unsorted by id
    Column("subject_id", String(36), nullable=False),
    Column("template_sha", String(64), nullable=False),
    Column("by_domain", String(16)),
    Column("by_category", String(64)),
    Column("by_grid", String(200)),
    Column("by_kind", String(16)),
    Column("by_origin", String(16)),
    Column("by_month", String(7)),
    Column("in_register", Integer),  # 1: its subject is in the register coverage divides by
    prefixes=["TEMPORARY"],
)
CACHE_KIB = 65536  # SQLite page cache while counting, in KiB
BREAKDOWNS = ("by_domain", "by_category", "by_grid", "by_kind", "by_origin", "by_month")

# "failed" as a literal, so that SQLite can use the partial index on failed results (migration 0009)
FAILED = ItemResult.result == literal_column("'fail'")


def period_table(session: Session, period: Period) -> Table:
    """``stats_period`` filled with ``period``'s counted inspections (built once per session and period)."""
    if session.info.get(_KEY) == period:
        return PERIOD
    connection = session.connection()
    connection.execute(text(f"DROP TABLE IF EXISTS {_KEY}"))
    PERIOD.create(connection)
    columns = [Inspection.id, Inspection.subject_id, Inspection.template_sha, *(DIMENSIONS[n] for n in BREAKDOWNS),
               case((register_condition(period), 1), else_=0)]
    if connection.dialect.name == "sqlite":
        # a page cache the size of what a year's statistics read (the default 2 MB re-reads the same
        # index pages from the OS cache); memory only, for this connection, nothing written
        connection.execute(text(f"PRAGMA cache_size = -{CACHE_KIB}"))
    connection.execute(insert(PERIOD).from_select([c.name for c in PERIOD.columns], inspections_query(columns, period)))
    session.info[_KEY] = period
    return PERIOD


def forget(session: Session) -> None:
    """Build the table again on next use (the benchmark times each figure from scratch)."""
    session.info.pop(_KEY, None)
