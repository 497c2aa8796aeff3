"""Several stations in one database (a county's or a city's): which there are, and what a report counts.

A record keeps the id of the device that created it; ``station_devices`` names the station of
each device whose records came from another station (a device not listed belongs to this
database's own station, the ``station_name`` setting). ``scoped`` turns the stations a report
was asked for (``stats --station``, the 统计 tab's 站所 chooser) into a ``Period`` that counts only
their records (``common.station_condition``), by the rule in ``core.station_filter`` (the console's
lists use the same). Rules: docs/statistics.md "Stations".
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.station_filter import resolve, station_names  # noqa: F401 (core.stats imports station_names here)
from core.stats.period import Period
from core.users import require
from db.models import StationDevice

if TYPE_CHECKING:
    from core.context import AppContext

_DEVICE_ID = re.compile(r"[0-9a-fA-F-]{1,36}")
MAX_NAME = 200


def scoped(session: Session, period: Period, chosen: list[str] | tuple[str, ...] | None, home: str) -> Period:
    """``period`` counting only the records of the ``chosen`` stations (None, empty or ``all``: every one).

    An unknown station is refused with one message naming the ones there are."""
    period = period.when
    found = resolve(session, chosen, home)
    return period if found is None else period.at(*found)


def assign_devices(ctx: AppContext, station: str, device_ids: list[str]) -> int:
    """Record that ``device_ids``' records belong to ``station`` (a county's database: the stations
    whose records it holds). Returns how many devices were listed or moved."""
    require(ctx, "manage_devices")
    station = (station or "").strip()
    if not station or len(station) > MAX_NAME:
        raise InvalidInput(f"站所名称应为 1–{MAX_NAME} 个字")
    if station == ctx.setting("station_name"):
        raise InvalidInput("本库自己站所的设备无需登记：未登记的设备即属本站所")
    ids = [d.strip() for d in device_ids]
    bad = [d for d in ids if not _DEVICE_ID.fullmatch(d)]
    if bad or not ids:
        raise InvalidInput(f"设备编号“{bad[0] if bad else ''}”无效")
    with ctx.sessions.begin() as s:
        for device_id in dict.fromkeys(ids):
            row = s.get(StationDevice, device_id)
            if row is None:
                s.add(StationDevice(device_id=device_id, station=station, assigned_at=ctx.clock()))
            else:
                row.station = station
    return len(set(ids))
