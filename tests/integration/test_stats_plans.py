"""The statistics' query plans (docs/statistics.md "Speed"): the indexes of migrations 0009 and
0016 are the ones SQLite chooses. Without sqlite_stat1 SQLite plans the same on a small file as
on a city-sized one, so the hand-built station shows the city's plans."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from core.context import AppContext
from core.stats import Period, common, work
from db.models import Inspection, Rectification, Subject
from tests.integration.stats_station import build

Q4 = Period.quarter(2026, 4)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    context = AppContext.open(tmp_path_factory.mktemp("plans") / "station.db")
    build(context)
    yield context
    context.close()


def _plan(session, query) -> list[str]:
    sql = str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    return [row[3] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql))]


def _orders(condition):
    return (select(common.DOMAIN, func.count(Rectification.id)).select_from(Rectification)
            .join(Inspection, Inspection.id == Rectification.inspection_id)
            .join(Subject, Subject.id == Inspection.subject_id).where(condition).group_by(common.DOMAIN))


def test_overdue_orders_start_from_the_unresolved_orders_not_every_signed_inspection(ctx):
    with ctx.sessions() as s:
        plan = _plan(s, _orders(work.overdue_condition(Q4)))
    assert len(plan) >= 3
    assert any("ix_rectifications_closed" in step for step in plan), plan
    assert not any("ix_inspections_signed" in step for step in plan), plan


def test_completed_orders_are_a_range_of_the_closing_index(ctx):
    with ctx.sessions() as s:
        plan = _plan(s, _orders(work.completed_condition(Q4)))
    assert any("ix_rectifications_closed (status=? AND closed_at>? AND closed_at<?)" in step for step in plan), plan


def test_the_register_and_the_officers_are_read_from_covering_indexes(ctx):
    from db.models import InspectionOfficer

    with ctx.sessions() as s:
        register = _plan(s, select(Subject.category, func.count()).where(common.register_condition(Q4))
                         .group_by(Subject.category))
        officers = _plan(s, select(InspectionOfficer.name, func.count()).select_from(Inspection)
                         .join(InspectionOfficer, InspectionOfficer.inspection_id == Inspection.id)
                         .where(common.signed_in(Q4)).group_by(InspectionOfficer.name))
    assert any("COVERING INDEX ix_subjects_stats" in step for step in register), register
    assert any("COVERING INDEX ix_inspection_officers_names" in step for step in officers), officers
