"""The 检查记录 list's search and filters: by number, subject, category, grid, status and date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select

from core.station_filter import station_clause
from core.inspections.records import InspectionSummary, list_inspections
from core.subjects import CATEGORIES, like_pattern
from db.models import Inspection, Subject

if TYPE_CHECKING:
    from core.context import AppContext


@dataclass(frozen=True)
class InspectionFilter:
    """What the list is narrowed to; empty fields do not narrow."""

    text: str = ""  # any part of the document number, the subject's name or credit code, or its category
    status: str = ""
    category: str = ""
    grid: str = ""
    date_from: date | None = None  # the inspection started on or after this day
    date_to: date | None = None  # and on or before this day
    station: str = ""  # a county's database: the records made on that station's devices


def clauses(f: InspectionFilter) -> tuple:
    """The WHERE clauses of ``f`` over inspections joined to their subject."""
    found = []
    text = f.text.strip()
    if text:
        pattern = like_pattern(text)
        parts = [Inspection.number.like(pattern, escape="\\"), Subject.name.like(pattern, escape="\\"),
                 Subject.credit_code.like(like_pattern(text.upper()), escape="\\")]
        categories = [code for code, label in CATEGORIES.items() if text in label]
        if categories:
            parts.append(Subject.category.in_(categories))
        found.append(or_(*parts))
    if f.status:
        found.append(Inspection.status == f.status)
    if f.category:
        found.append(Subject.category == f.category)
    if f.grid:
        found.append(Subject.grid == f.grid)
    if f.date_from:
        found.append(Inspection.started_at >= datetime.combine(f.date_from, time.min))
    if f.date_to:
        found.append(Inspection.started_at < datetime.combine(f.date_to + timedelta(days=1), time.min))
    return tuple(found)


def search_inspections(ctx: AppContext, f: InspectionFilter = InspectionFilter(), *, limit: int = 200,
                       offset: int = 0) -> list[InspectionSummary]:
    """A page of the inspections matching ``f``, newest first."""
    return list_inspections(ctx, limit=limit, offset=offset, where=_where(ctx, f))


def _where(ctx: AppContext, f: InspectionFilter) -> tuple:
    """``clauses(f)`` and its station (which needs the database: the station's devices)."""
    if not f.station:
        return clauses(f)
    return (*clauses(f), station_clause(ctx, Inspection.device_id, f.station))


def count_inspections(ctx: AppContext, f: InspectionFilter = InspectionFilter()) -> int:
    """How many inspections match ``f`` in all pages."""
    query = select(func.count(Inspection.id)).select_from(Inspection).join(Subject).where(*_where(ctx, f))
    with ctx.sessions() as s:
        return s.scalar(query) or 0
