"""Statistics for the station and for reporting upward (统计): every figure counted from the records.

``report(ctx, period)`` computes all figures (keys as in docs/statistics.md); ``drill(ctx,
period, figure, breakdown, key)`` lists the records behind one number, chosen by the same
conditions the figure counted with. No Qt here; the GUI calls these on a worker.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Callable

from sqlalchemy import func, select

from core import published
from core.errors import InvalidInput
from core.grades import grade_table
from core.stats import common, drills, oversight, scope, summary, work
from core.stats.common import DrillRow
from core.stats.stations import assign_devices, scoped, station_names
from core.stats.period import Period, parse_day, parse_period
from core.users import PermissionDenied, require
from db.models import Inspection, Lead, Rectification, Subject, TriggerEvent

if TYPE_CHECKING:
    from core.context import AppContext

__all__ = ["FIGURES", "DrillRow", "Period", "assign_devices", "drill", "parse_day", "parse_period",
           "rebuild_summary", "report", "stations"]

# the report's keys, in the order the issue lists them
FIGURES = ("inspections", "subjects_inspected", "inspections_with_problems", "failed_items",
           "rectifications_ordered", "rectifications_completed", "rectifications_overdue", "case_suggestions",
           "coverage", "plan", "triggers", "leads", "grades")


def _sees_reporters(ctx: AppContext) -> bool:
    return ctx.user is None or ctx.user.role == "admin"


def stations(ctx: AppContext) -> list[str]:
    """The stations whose records the database holds (its own first); one name for a station's database."""
    require(ctx, "stats")
    with ctx.sessions() as s:
        return station_names(s, ctx.setting("station_name"))


def _scope(ctx: AppContext, s, period: Period, chosen) -> tuple[Period, list[str]]:
    """``period`` limited to the ``chosen`` stations (None: all), and every station's name."""
    home = ctx.setting("station_name")
    names = station_names(s, home)
    scope.several_stations(s, len(names) > 1)
    return scoped(s, period, chosen, home), names


def report(ctx: AppContext, period: Period, *, progress: Callable[[int, int], None] | None = None,
           station: str | None = None, stations: list[str] | None = None) -> dict:
    """All figures for ``period``: a dict whose keys are ``FIGURES`` plus ``period`` and ``station``.

    ``stations`` (a county's or city's database): count only those stations' records (None, empty or
    ``all``: every record); where the database holds several stations, ``inspections`` and
    ``subjects_inspected`` also have ``by_station`` and the report lists them under ``stations``."""
    require(ctx, "stats")
    steps: list[tuple[str, Callable]] = [
        ("inspections", lambda s: work.inspections_and_subjects(s, period)),
        ("inspections_with_problems", lambda s: work.inspections_with_problems(s, period)),
        ("failed_items", lambda s: work.failed_items(s, period)),
        ("rectifications", lambda s: work.rectifications(s, period)),
        ("coverage", lambda s: oversight.coverage(s, period)),
        ("plan", lambda s: oversight.plan(s, period)),
        ("triggers", lambda s: oversight.triggers(s, period, trigger_rules)),
        ("leads", lambda s: oversight.leads(s, period, show_reporters=_sees_reporters(ctx))),
        ("grades", lambda s: oversight.grades(s, period, grade_table)),
    ]
    out: dict = {"period": period.as_dict(), "station": station or ctx.setting("station_name"),
                 "generated_at": ctx.clock().isoformat(timespec="seconds")}
    with ctx.sessions() as s:
        period, names = _scope(ctx, s, period, stations)
        trigger_rules, grade_table = published.rules(ctx, s)  # shipped, or newer ones published here or above
        if len(names) > 1:
            out["stations"] = list(period.stations or names)
            if period.stations and station is None:
                out["station"] = "、".join(period.stations)
        for done, (name, step) in enumerate(steps):
            value = step(s)
            if name == "inspections":
                out["inspections"], out["subjects_inspected"] = value
            elif name == "rectifications":
                out.update(value)
            else:
                out[name] = value
            if progress is not None:
                progress(done + 1, len(steps))
    home = ctx.setting("station_name")
    for figure in ("inspections", "subjects_inspected"):  # '' is the database's own station
        if "by_station" in out[figure]:
            out[figure]["by_station"] = {home if k == "" else k: n for k, n in out[figure]["by_station"].items()}
    return out


def rebuild_summary(ctx: AppContext) -> int | None:
    """Rebuild the statistics summary from the records (permission ``stats``); the months built, or None
    where the database keeps none (PostgreSQL: the figure is always counted there)."""
    require(ctx, "stats")
    with ctx.sessions.begin() as s:
        if s.connection().dialect.name != "sqlite":
            return None
        return summary.rebuild(s)


DRILLABLE = ("inspections", "subjects_inspected", "inspections_with_problems", "failed_items", "rectifications_ordered",
             "rectifications_completed", "rectifications_overdue", "case_suggestions", "coverage", "plan", "triggers",
             "leads", "grades")


def drill(ctx: AppContext, period: Period, figure: str, breakdown: str | None = None,
          key: str | None = None, *, limit: int = 5000, stations: list[str] | None = None) -> list[DrillRow]:
    """The records counted in ``figure`` (and, with ``breakdown`` and ``key``, in that cell); ``stations``
    as in ``report``."""
    require(ctx, "stats")
    if figure not in DRILLABLE:
        raise InvalidInput(f"“{figure}”不能列出明细")
    if figure == "leads" and breakdown == "by_worker" and not _sees_reporters(ctx):
        raise PermissionDenied("上报人仅所长可见，不能按网格员列出线索")
    if breakdown == "by_station" and key == ctx.setting("station_name"):
        key = ""  # the database's own station: its devices are the ones not listed
    with ctx.sessions() as s:
        period, _names = _scope(ctx, s, period, stations)
        if figure == "grades":
            return drills.grades(s, period, breakdown, key, grade_table(ctx, s))[:limit]
        if figure in drills.FIGURES:
            return drills.FIGURES[figure](s, period, breakdown, key)[:limit]
        return _drill(s, period, figure, breakdown, key, limit)


def _inspection_rows(s, query, limit: int) -> list[DrillRow]:
    rows = s.execute(query.order_by(Inspection.signed_at, Inspection.number).limit(limit)).all()
    return [DrillRow("inspection", r.id, r.number, r.name, r.signed_at, common.KIND_LABELS.get(r.kind, r.kind))
            for r in rows]


def _drill(s, period: Period, figure: str, breakdown: str | None, key: str | None, limit: int) -> list[DrillRow]:
    columns = [Inspection.id, Inspection.number, Subject.name, Inspection.signed_at, Inspection.kind]
    if figure in ("inspections", "subjects_inspected"):
        query = common.inspections_query(columns, period, breakdown)
        if breakdown is not None:
            if breakdown not in common.DIMENSIONS:
                raise InvalidInput(f"未知的分组“{breakdown}”")
            query = query.where(common.DIMENSIONS[breakdown] == (key or ""))
        if figure == "inspections":
            return _inspection_rows(s, query.distinct(), limit)
        rows = s.execute(query.with_only_columns(Subject.id, Subject.name, Subject.category,
                                                 func.min(Inspection.signed_at))
                         .group_by(Subject.id, Subject.name, Subject.category).order_by(Subject.name).limit(limit)).all()
        return [DrillRow("subject", r[0], "", r[1], r[3], r[2]) for r in rows]
    if figure == "inspections_with_problems":
        query = work.problems_query(s, columns, period)
        if breakdown == "by_domain" and key:
            query = query.where(common.DOMAIN == key)
        return _inspection_rows(s, query.distinct(), limit)
    if figure.startswith("rectifications_") or figure == "case_suggestions":
        condition = {"rectifications_ordered": work.ordered_condition(period),
                     "rectifications_completed": work.completed_condition(period),
                     "rectifications_overdue": work.overdue_condition(period),
                     "case_suggestions": work.completed_condition(period, "case_recommended")}[figure]
        query = (select(Inspection.id, Rectification.number, Subject.name, Rectification.deadline,
                        Rectification.status).select_from(Rectification)
                 .join(Inspection, Inspection.id == Rectification.inspection_id)
                 .join(Subject, Subject.id == Inspection.subject_id).where(condition))
        if breakdown == "by_domain" and key:
            query = query.where(common.DOMAIN == key)
        rows = s.execute(query.order_by(Rectification.deadline, Rectification.number).limit(limit)).all()
        return [DrillRow("inspection", r[0], r[1], r[2], datetime.combine(r[3], datetime.min.time()),
                         f"整改期限 {r[3].isoformat()}") for r in rows]
    if figure == "coverage":
        query = (select(Subject.id, Subject.name, Subject.category, func.min(Inspection.signed_at))
                 .join(Inspection, Inspection.subject_id == Subject.id)
                 .where(oversight.register_condition(period), common.signed_in(period)))
        if key:
            query = query.where(Subject.category == key)
        rows = s.execute(query.group_by(Subject.id, Subject.name, Subject.category)
                         .order_by(Subject.name).limit(limit)).all()
        return [DrillRow("subject", r[0], "", r[1], r[3], r[2]) for r in rows]
    if figure == "triggers":
        query = (select(TriggerEvent.id, TriggerEvent.source_ref, Subject.name, TriggerEvent.occurred_on,
                        TriggerEvent.event_type).join(Subject, Subject.id == TriggerEvent.subject_id)
                 .where(oversight.event_condition(period)))
        if key:
            query = query.where(TriggerEvent.event_type == key)
        rows = s.execute(query.order_by(TriggerEvent.occurred_on).limit(limit)).all()
        return [DrillRow("event", r[0], r[1] or "", r[2], datetime.combine(r[3], datetime.min.time()), r[4])
                for r in rows]
    # leads (the reporter is not listed: core.leads shows it to the admin and the assignee only)
    query = (select(Lead.id, Lead.party_name, Lead.reported_at, Lead.status, Lead.category)
             .join(oversight.User, oversight.User.id == Lead.reporter_id).where(oversight.lead_condition(period)))
    if breakdown == "by_grid" and key is not None:
        query = query.where(oversight.User.grid == key)
    elif breakdown == "by_worker" and key is not None:
        query = query.where(oversight.User.name == key)
    rows = s.execute(query.order_by(Lead.reported_at).limit(limit)).all()
    return [DrillRow("lead", r[0], "", r[1], r[2], r[3]) for r in rows]
