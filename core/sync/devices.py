"""Devices and enrolment: a station registers laptops, a laptop enrols with the file it was given.

The laptop's private key is made at the station and travels only in the enrolment file,
so a laptop can be registered without a network between them.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core.errors import InvalidInput
from core.files import write_atomically
from core.users import require
from core.sync.keys import new_key_pair, public_of
from core.sync.spec import (
    ENROLMENT_FORMAT, FORMAT_VERSION, MAX_DEVICE_NO, S_DEVICE_NAME, S_PRIVATE, S_ROLE, S_STATION_DEVICE,
    S_STATION_ID, S_STATION_NAME, S_STATION_PUB,
)
from db.models import Device

if TYPE_CHECKING:
    from core.context import AppContext

NOT_SET_UP = "本机尚未设置同步：所里的电脑请先登记设备（devices add），笔记本请先登记（devices enrol）"


@dataclass(frozen=True)
class DeviceRow:
    """A laptop registered at the station."""

    device_no: int
    name: str
    id: str
    public_key: str = ""


def role(ctx: AppContext) -> str | None:
    """"station", "device" (an enrolled laptop) or None (not set up for sync)."""
    return ctx.setting_or(S_ROLE, "") or None


def _ensure_station(ctx: AppContext) -> None:
    """The first registration makes this database a station: an id and a key pair."""
    if role(ctx) == "device":
        raise InvalidInput("本机是已登记到所里的笔记本，不能再登记其他设备")
    if role(ctx) == "station":
        return
    private, _public = new_key_pair()
    ctx._write_settings({S_ROLE: "station", S_STATION_ID: str(uuid.uuid4()), S_PRIVATE: private})


def add_device(ctx: AppContext, name: str, out: Path | None = None) -> dict[str, Any]:
    """Register a laptop at the station; returns the enrolment data to hand to it.

    The laptop's private key is generated here and travels only in the enrolment file,
    so the station can register a laptop without a network between them. With ``out``
    the file is written inside the transaction: if it cannot be written, no device is recorded.
    An admin's action (permission "manage_devices").
    """
    require(ctx, "manage_devices")
    name = name.strip()
    if not name:
        raise InvalidInput("请填写设备名称")
    _ensure_station(ctx)
    private, public = new_key_pair()
    device_id = str(uuid.uuid4())
    wrote: list[Path] = []
    try:
        return _register(ctx, name, out, private, public, device_id, wrote)
    except BaseException:
        for path in wrote:  # written, then the commit failed (a full disk): no device, no key file
            path.unlink(missing_ok=True)
        raise


def _register(ctx: AppContext, name: str, out: Path | None, private: str, public: str,
              device_id: str, wrote: list[Path]) -> dict[str, Any]:
    with ctx.transaction() as s:
        if s.scalar(select(Device).where(Device.name == name)) is not None:
            raise InvalidInput(f"设备“{name}”已登记")
        used = set(s.scalars(select(Device.device_no)))
        free = [n for n in range(1, MAX_DEVICE_NO + 1) if n not in used]
        if not free:
            raise InvalidInput(f"设备号 1 至 {MAX_DEVICE_NO} 已全部分配")
        s.add(Device(id=device_id, name=name, public_key=public, device_no=free[0]))
        enrolment = {
            "format": ENROLMENT_FORMAT, "format_version": FORMAT_VERSION,
            "station_id": ctx.setting(S_STATION_ID), "station_name": ctx.setting("station_name"),
            "station_device_id": ctx.device_id, "station_public_key": public_of(ctx.setting(S_PRIVATE)),
            "device_id": device_id, "device_name": name, "device_no": free[0],
            "device_private_key": private, "device_public_key": public,
        }
        if out is not None:
            write_atomically(Path(out), json.dumps(enrolment, ensure_ascii=False, indent=2).encode("utf-8"))
            wrote.append(Path(out))
    return enrolment


def enrol_device(ctx: AppContext, data: dict[str, Any]) -> None:
    """Make this database the station's laptop described by an enrolment file.

    Enrolment runs on a fresh laptop database, before any user exists, as the system (the
    CLI); a logged-in user must be an admin (permission "manage_devices").
    """
    require(ctx, "manage_devices")
    needed = ("station_id", "station_name", "station_device_id", "station_public_key", "device_id",
              "device_name", "device_no", "device_private_key", "device_public_key")
    if data.get("format") != ENROLMENT_FORMAT or any(k not in data for k in needed):
        raise InvalidInput("登记文件无效（不是本软件生成的设备登记文件）")
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise InvalidInput("登记文件由更新版本的软件生成，请先升级本软件")
    try:
        if public_of(data["device_private_key"]) != data["device_public_key"]:
            raise ValueError
        bytes.fromhex(data["station_public_key"])
    except ValueError as exc:
        raise InvalidInput("登记文件中的密钥无效") from exc
    if role(ctx) == "station":
        raise InvalidInput("本机是所里的电脑（已登记过设备），不能作为笔记本登记")
    current = ctx.setting_or(S_STATION_ID, "")
    if current and current != data["station_id"]:
        raise InvalidInput("本机已登记到另一个所，不能再登记到这个所")
    ctx._write_settings({
        S_ROLE: "device", S_STATION_ID: data["station_id"], S_STATION_NAME: data["station_name"],
        S_STATION_DEVICE: data["station_device_id"], S_STATION_PUB: data["station_public_key"],
        S_PRIVATE: data["device_private_key"], S_DEVICE_NAME: data["device_name"],
        "device_id": data["device_id"], "device_no": str(int(data["device_no"])),
    })


def peers(ctx: AppContext, *, required: bool = True) -> list[tuple[str, str]]:
    """Who this database exchanges packages with: [(device id, name)].

    Not set up for sync: ``InvalidInput`` when ``required``, else no peers.
    """
    if role(ctx) == "station":
        return [(d.id, d.name) for d in list_devices(ctx)]
    if role(ctx) == "device":
        return [(ctx.setting(S_STATION_DEVICE), ctx.setting(S_STATION_NAME))]
    if required:
        raise InvalidInput(NOT_SET_UP)
    return []


def list_devices(ctx: AppContext) -> list[DeviceRow]:
    """The laptops registered here, by device number."""
    with ctx.sessions() as s:
        return [DeviceRow(d.device_no, d.name, d.id, d.public_key)
                for d in s.scalars(select(Device).order_by(Device.device_no))]


def find_device(ctx: AppContext, device_id: str) -> DeviceRow | None:
    """The registered laptop with this id, if any."""
    with ctx.sessions() as s:
        d = s.get(Device, device_id)
        return None if d is None else DeviceRow(d.device_no, d.name, d.id, d.public_key)


def sender_key(ctx: AppContext, manifest: dict[str, Any], name: str) -> tuple[str, str]:
    """(public key, name) of the sender, who must be registered with our station."""
    sender = str(manifest.get("device_id", ""))
    if role(ctx) == "station":
        with ctx.sessions() as s:
            device = s.get(Device, sender)
        if device is None:
            raise InvalidInput(f"同步包 {name} 来自未登记的设备，已拒绝")
        return device.public_key, device.name
    if role(ctx) == "device":
        if sender != ctx.setting(S_STATION_DEVICE):
            raise InvalidInput(f"同步包 {name} 不是本所发出的，已拒绝")
        return ctx.setting(S_STATION_PUB), ctx.setting(S_STATION_NAME)
    raise InvalidInput(NOT_SET_UP)
