"""Which station a record belongs to, for the lists of a county's or city's database (the console).

A record keeps the id of the device that created it; ``station_devices`` names the station of
each device whose records came from another station, and a device not listed belongs to the
database's own station (the ``station_name`` setting). The statistics' ``--station``
(``core.stats.stations.scoped``) and the console's 站所 filter on the register, the inspection
list, the leads and the tasks resolve a choice of stations into devices here, the one rule.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import false, select, true
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from db.models import StationDevice

if TYPE_CHECKING:
    from core.context import AppContext

ALL = ("all", "全部")  # --station all: every station in the database


def station_names(session: Session, home: str) -> list[str]:
    """The stations whose records the database holds: its own first, then the others by name."""
    others = set(session.scalars(select(StationDevice.station).distinct()).all())
    return [home, *sorted(others - {home})]


def record_stations(ctx: AppContext) -> list[str]:
    """The stations a list may be narrowed to (its own first); one name: a station's own database."""
    with ctx.sessions() as s:
        return station_names(s, ctx.setting("station_name"))


def resolve(session: Session, chosen, home: str) -> tuple[tuple[str, ...], tuple[str, ...], bool] | None:
    """(the stations, their devices, whether ``devices`` are the ones *not* counted) for ``chosen``;
    None when every station counts (nothing chosen, ``all``, or every one there is).

    An unknown station is refused with one message naming the ones there are."""
    names = station_names(session, home)
    wanted = [c.strip() for c in chosen or () if c and c.strip()]
    if not wanted or any(c.lower() in ALL for c in wanted):
        return None
    unknown = [c for c in wanted if c not in names]
    if unknown:
        raise InvalidInput(f"本数据库中没有站所“{unknown[0]}”（有：{'、'.join(names)}）")
    selected = list(dict.fromkeys(wanted))
    if set(selected) == set(names):
        return None
    devices = session.execute(select(StationDevice.device_id, StationDevice.station)
                              .where(StationDevice.station != home)).all()
    if home in selected:  # its own devices are the ones not listed: every device but the others'
        return tuple(selected), tuple(sorted(d for d, s in devices if s not in selected)), True
    return tuple(selected), tuple(sorted(d for d, s in devices if s in selected)), False


def device_condition(device_column, devices: tuple[str, ...], exclude: bool):
    """True for a record whose creating device (``device_column``) is one of ``devices`` (or, with
    ``exclude``, none of them)."""
    if exclude:
        return device_column.not_in(devices) if devices else true()
    return device_column.in_(devices) if devices else false()


def station_clause(ctx: AppContext, device_column, station: str | None):
    """The WHERE clause keeping the records of ``station`` (by their creating device); None or "":
    every station's."""
    if not station:
        return true()
    with ctx.sessions() as s:
        found = resolve(s, [station], ctx.setting("station_name"))
    if found is None:
        return true()
    _names, devices, exclude = found
    return device_condition(device_column, devices, exclude)
