"""Several stations in one database (a county's or a city's): which there are, and what a report counts.

A record keeps the id of the device that created it; ``station_devices`` names the station of
each device whose records came from another station (a device not listed belongs to this
database's own station, the ``station_name`` setting). ``scoped`` turns the stations a report
was asked for (``stats --station``, the 统计 tab's 站所 chooser) into a ``Period`` that counts only
their records (``common.station_condition``). Rules: docs/statistics.md "Stations".
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.stats.period import Period
from core.users import require
from db.models import StationDevice

if TYPE_CHECKING:
    from core.context import AppContext

ALL = ("all", "全部")  # --station all: every station in the database
_DEVICE_ID = re.compile(r"[0-9a-fA-F-]{1,36}")
MAX_NAME = 200


def station_names(session: Session, home: str) -> list[str]:
    """The stations whose records the database holds: its own first, then the others by name."""
    others = set(session.scalars(select(StationDevice.station).distinct()).all())
    return [home, *sorted(others - {home})]


def scoped(session: Session, period: Period, chosen: list[str] | tuple[str, ...] | None, home: str) -> Period:
    """``period`` counting only the records of the ``chosen`` stations (None, empty or ``all``: every one).

    An unknown station is refused with one message naming the ones there are."""
    period = period.when
    names = station_names(session, home)
    wanted = [c.strip() for c in chosen or () if c.strip()]
    if not wanted or any(c.lower() in ALL for c in wanted):
        return period
    unknown = [c for c in wanted if c not in names]
    if unknown:
        raise InvalidInput(f"本数据库中没有站所“{unknown[0]}”（有：{'、'.join(names)}）")
    selected = list(dict.fromkeys(wanted))
    if set(selected) == set(names):
        return period
    devices = session.execute(select(StationDevice.device_id, StationDevice.station)
                              .where(StationDevice.station != home)).all()
    if home in selected:  # its own devices are the ones not listed: every device but the others'
        return period.at(tuple(selected), tuple(d for d, s in devices if s not in selected), True)
    return period.at(tuple(selected), tuple(d for d, s in devices if s in selected), False)


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
