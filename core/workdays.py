"""Working days with the official Chinese holiday calendar and its make-up workdays (调休).

Uses the maintained ``chinesecalendar`` package. For a year it does not cover yet, the
date is computed on Monday–Friday and flagged as approximate, never silently.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Deadline:
    due: date
    exact: bool  # False when a year outside the holiday calendar was involved


def is_workday(day: date) -> tuple[bool, bool]:
    """(is it a working day, is the answer from the official calendar)."""
    import chinese_calendar

    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def add_working_days(start: date, days: int) -> Deadline:
    """The date ``days`` working days after ``start`` (the start day itself not counted)."""
    current, exact, left = start, True, days
    while left > 0:
        current += timedelta(days=1)
        workday, known = is_workday(current)
        exact = exact and known
        if workday:
            left -= 1
    return Deadline(current, exact)


def add_calendar_days(start: date, days: int) -> Deadline:
    return Deadline(start + timedelta(days=days), True)


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when end is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    count, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if is_workday(current)[0]:
            count += 1
    return count
