"""The inspection work figures: 检查家次 / 户数, 发现问题, 不符合项, 责令改正 / 完成整改 / 逾期 / 立案建议.

One function per figure, each a few GROUP BY queries over the records (rules: docs/statistics.md).
"""
from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from core.stats.common import (
    DIMENSIONS,
    DOMAIN,
    DOMAIN_BY_TEMPLATE_FIRST,
    advisory_condition,
    failed_condition,
    headings,
    inspections_query,
    outlines,
    signed_in,
    station_condition,
)
from core.stats import summary
from core.stats.period import Period
from core.stats.scope import FAILED, period_table
from db.models import Inspection, InspectionOfficer, ItemResult, Rectification, Subject


def inspections_and_subjects(session: Session, period: Period) -> tuple[dict, dict]:
    """检查家次 (signed inspections) and 检查户数 (distinct subjects), each with its breakdowns.

    On SQLite, over the period's whole months, read from the per-month subject sets
    (``summary.figure_rows``: the same numbers, its dirty months recomputed from the records first);
    otherwise counted in SQL (``_counted_rows``). The totals are the sums of a breakdown every record
    has exactly one key in (inspections by kind, households by category: a subject has one category),
    so no query of their own.
    """
    several = session.info.get("stats_several_stations", False)
    rows = summary.figure_rows(session, period, several)
    if rows is None:
        rows = counted_rows(session, period, several)
    inspections: dict = {}
    inspected: dict = {}
    for name in DIMENSIONS:
        if name == "by_station" and not several:
            continue
        for target, column in ((inspections, 1), (inspected, 2)):
            order = (lambda r: r[0]) if name == "by_month" else (lambda r, c=column: (-r[c], r[0]))
            target[name] = {r[0]: r[column] for r in sorted(rows[name], key=order)}
    inspections = {"total": sum(inspections["by_kind"].values()), **inspections}
    inspected = {"total": sum(inspected["by_category"].values()), **inspected}
    return inspections, inspected


def counted_rows(session: Session, period: Period, several: bool) -> dict[str, list[tuple]]:
    """(key, inspections, households) per breakdown, counted in SQL from the period's table
    (``scope.period_table``: every breakdown's key computed once with the expressions the drill-down
    filters by); the officers joined to it."""
    table = period_table(session, period)
    out: dict[str, list[tuple]] = {}
    for name in DIMENSIONS:
        if name == "by_station" and not several:
            continue
        if name == "by_inspector":
            key = func.coalesce(DIMENSIONS[name], "")
            query = (select(key, func.count(func.distinct(table.c.row_key)),
                            func.count(func.distinct(table.c.subject_key)))
                     .select_from(table).join(InspectionOfficer, InspectionOfficer.inspection_id == table.c.id))
        else:
            key = func.coalesce(table.c[name], "")
            query = select(key, func.count(), func.count(func.distinct(table.c.subject_key))).select_from(table)
        out[name] = [tuple(r) for r in session.execute(query.group_by(key)).all()]
    return out


def problems_query(session: Session, columns, period: Period):
    """The period's signed inspections joined to their failed, non-advisory item results (the drill-down)."""
    failed = failed_condition(advisory_condition(session, period))
    return inspections_query(columns, period).join(ItemResult, ItemResult.inspection_id == Inspection.id).where(failed)


def inspections_with_problems(session: Session, period: Period) -> dict:
    """发现问题家次: signed inspections with at least one failed item that is not advisory.

    The failed results are read once from the base tables (the signed inspections' covering index,
    then the partial index on failed results; the subject only where the checklist does not decide
    药/械/化) and the advisory ones dropped by the template snapshot's own flags (the drill-down,
    ``problems_query``, filters the same in SQL).
    """
    rows = session.execute(
        select(Inspection.id, DOMAIN_BY_TEMPLATE_FIRST, Inspection.template_sha, ItemResult.item_code)
        .select_from(Inspection).join(ItemResult, ItemResult.inspection_id == Inspection.id)
        .where(signed_in(period), FAILED)).all()
    where = headings(session, {r[2] for r in rows})
    found: dict[str, set] = {}
    for inspection_id, domain, sha, code in rows:
        if not where.get((sha, code), ("", "", False))[2]:
            found.setdefault(domain, set()).add(inspection_id)
    by_domain = {key: len(ids) for key, ids in sorted(found.items(), key=lambda kv: -len(kv[1]))}
    return {"total": sum(by_domain.values()), "by_domain": by_domain}


def failed_items(session: Session, period: Period) -> dict:
    """不符合项: failed item results of the period's signed inspections, by template and heading.

    Advisory items are counted apart (``advisory``), never in ``total``.
    """
    # from the base tables (no subject needed): the signed inspections' covering index, then the
    # partial index on failed results — this figure alone never builds the period table
    rows = session.execute(
        select(Inspection.template_sha, ItemResult.item_code, func.count()).select_from(Inspection)
        .join(ItemResult, ItemResult.inspection_id == Inspection.id).where(signed_in(period), FAILED)
        .group_by(Inspection.template_sha, ItemResult.item_code)).all()
    where = headings(session, [r[0] for r in rows])
    total = advisory = 0
    by_heading: dict[str, dict[str, int]] = {}
    by_item: dict[str, int] = {}
    for sha, code, n in rows:
        template, heading, is_advisory = where.get((sha, code), ("?", "?", False))
        if is_advisory:
            advisory += n
            continue
        total += n
        by_heading.setdefault(template, {})
        by_heading[template][heading] = by_heading[template].get(heading, 0) + n
        by_item[f"{template} {code}"] = by_item.get(f"{template} {code}", 0) + n
    # each checklist's headings in the checklist's own order (5+3+1: 五查, 三有, 一要)
    order: dict[tuple[str, str], int] = {}
    for outline in outlines(session, {r[0] for r in rows}).values():
        for position, (template, heading, _advisory) in enumerate(outline.values()):
            order.setdefault((template, heading), position)
    by_heading = {template: dict(sorted(counts.items(), key=lambda kv, t=template: order.get((t, kv[0]), 0)))
                  for template, counts in sorted(by_heading.items(), key=lambda kv: -sum(kv[1].values()))}
    return {"total": total, "advisory": advisory, "by_heading": by_heading,
            "by_item": dict(sorted(by_item.items(), key=lambda kv: (-kv[1], kv[0])))}


def ordered_condition(period: Period):
    return signed_in(period)


def completed_condition(period: Period, status: str = "closed"):
    """Rectifications closed (or, with ``case_recommended``, sent to a case) by a re-inspection signed in the period."""
    return and_(Rectification.status == status, Rectification.closed_at >= period.begins,
                Rectification.closed_at < period.ends, station_condition(Inspection.device_id, period))


def overdue_condition(period: Period):
    """Ordered by a record signed before the period ended, deadline passed by its last day, not resolved by then."""
    # the inspection's status through coalesce (the same truth: NULL is not "signed") so that the
    # planner starts from the few unresolved orders (migration 0016's indexes) instead of walking
    # every inspection signed before the period's end in ix_inspections_signed
    return and_(
        func.coalesce(Inspection.status, "") == "signed", Inspection.signed_at < period.ends,
        Rectification.deadline < period.end, station_condition(Inspection.device_id, period),
        or_(Rectification.status == "open", Rectification.closed_at.is_(None), Rectification.closed_at >= period.ends),
    )


# the four order figures: name → the rule of the orders it counts
RECTIFICATION_FIGURES = {
    "rectifications_ordered": ordered_condition,
    "rectifications_completed": completed_condition,
    "rectifications_overdue": overdue_condition,
    "case_suggestions": lambda period: completed_condition(period, "case_recommended"),
}


def rectification_figure(session: Session, period: Period, name: str) -> dict:
    """One of ``RECTIFICATION_FIGURES``, with its breakdown by 药/械/化."""
    # from the base tables, not the period's table: the planner starts from the signed
    # inspections (ordered) or from the closed / unresolved orders (migration 0016's indexes),
    # so this figure alone never pays for building the period's table
    base = (select(DOMAIN, func.count(Rectification.id)).select_from(Rectification)
            .join(Inspection, Inspection.id == Rectification.inspection_id)
            .join(Subject, Subject.id == Inspection.subject_id)
            .where(RECTIFICATION_FIGURES[name](period)).group_by(DOMAIN))
    rows = session.execute(base).all()
    return {"total": sum(n for _, n in rows), "by_domain": {k: n for k, n in sorted(rows, key=lambda r: -r[1])}}


def rectifications(session: Session, period: Period) -> dict[str, dict]:
    """责令改正 issued, 完成整改, overdue at period end, 立案建议 — each with a breakdown by 药/械/化."""
    return {name: rectification_figure(session, period, name) for name in RECTIFICATION_FIGURES}
