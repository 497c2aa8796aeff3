"""The period a report covers: a month, a quarter, a year or any range of whole days.

``parse_period("2026Q4")``, ``parse_period("2026-10")``, ``parse_period("2026")`` or
``Period.range(date_from, date_to)``. Both ends are included; a record's deciding
moment (docs/statistics.md) falls in the period when ``start <= moment < end + 1 day``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from core.errors import InvalidInput


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    kind: str = "range"  # month | quarter | year | range
    # where (docs/statistics.md "Stations"): the stations counted, empty for the whole database;
    # resolved by ``core.stats.stations.scoped`` into the devices whose records count
    # (``exclude``: every device but these — the database's own station among those chosen)
    stations: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    exclude: bool = False

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise InvalidInput(f"起始日期 {self.start.isoformat()} 晚于截止日期 {self.end.isoformat()}")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        _check_year(year)
        if not 1 <= month <= 12:
            raise InvalidInput(f"月份 {month} 不合理")
        following = date(year + (month == 12), month % 12 + 1, 1)
        return cls(date(year, month, 1), following - timedelta(days=1), "month")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        _check_year(year)
        if not 1 <= quarter <= 4:
            raise InvalidInput(f"季度 {quarter} 不合理（应为 1–4）")
        first = cls.month(year, quarter * 3 - 2)
        last = cls.month(year, quarter * 3)
        return cls(first.start, last.end, "quarter")

    @classmethod
    def year(cls, year: int) -> Period:
        _check_year(year)
        return cls(date(year, 1, 1), date(year, 12, 31), "year")

    @classmethod
    def range(cls, start: date, end: date) -> Period:
        return cls(start, end, "range")

    @property
    def begins(self) -> datetime:
        """The first moment of the period."""
        return datetime.combine(self.start, datetime.min.time())

    @property
    def ends(self) -> datetime:
        """The first moment after the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time())

    @property
    def label(self) -> str:
        if self.kind == "year":
            return f"{self.start.year}年"
        if self.kind == "quarter":
            return f"{self.start.year}年第{'一二三四'[(self.start.month - 1) // 3]}季度"
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "kind": self.kind, "label": self.label}

    def at(self, stations: tuple[str, ...], devices: tuple[str, ...], exclude: bool) -> Period:
        """The same days, counting only the records of ``stations`` (their ``devices``)."""
        return replace(self, stations=tuple(stations), devices=tuple(sorted(devices)), exclude=exclude)

    @property
    def when(self) -> Period:
        """The same days, every station."""
        return Period(self.start, self.end, self.kind)


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"年份 {year} 不合理")


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date, or one clear message."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"日期“{text}”无效，应为 YYYY-MM-DD（如 2026-10-01）") from None


def parse_period(text: str) -> Period:
    """``2026`` (a year), ``2026Q4`` (a quarter), ``2026-10`` (a month)."""
    value = text.strip().upper()
    if m := re.fullmatch(r"(\d{4})", value):
        return Period.year(int(m.group(1)))
    if m := re.fullmatch(r"(\d{4})-?Q(\d)", value):
        return Period.quarter(int(m.group(1)), int(m.group(2)))
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
        return Period.month(int(m.group(1)), int(m.group(2)))
    raise InvalidInput(f"统计期间“{text}”无效，应为年（2026）、季度（2026Q4）或月份（2026-10）")
