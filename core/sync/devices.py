"""Devices and enrolment: a station registers laptops, a laptop enrols with the file it was given.

The laptop's private key is made at the station and travels only in the enrolment file,
so a laptop can be registered without a network between them.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from core import keystore
from core.errors import InvalidInput, NotFound
from core.files import write_atomically
from core.users import require
from core.signing import new_key_pair, public_of
from core.sync.spec import (
    DEVICE_KINDS, ENROLMENT_FORMAT, FORMAT_VERSION, MAX_DEVICE_NO, S_DEVICE_NAME, S_PRIVATE, S_ROLE, S_STATION_DEVICE,
    S_STATION_ID, S_STATION_NAME, S_STATION_PUB, S_UP_DEVICE, S_UP_HUB_DEVICE, S_UP_HUB_PUB, S_UP_NAME, S_UP_PRIVATE,
    S_UP_STATION_ID,
)
from db.models import Device, Setting, SyncBatch, utcnow

if TYPE_CHECKING:
    from core.context import AppContext

SEALED_ENROLMENT = "yxjc-enrolment-sealed"
NOT_SET_UP = "本机尚未设置同步：所里的电脑请先登记笔记本，笔记本请先用所里给的登记文件加入所里"
# The highest device number ever given out (settings table, station only): numbers are never
# given out again, even after the device is revoked or its row deleted, so a number in a
# document (device_no × 10000 + n) always names one laptop.
S_LAST_DEVICE_NO = "sync.last_device_no"
# The station's X25519 recovery key (docs/keys.md): the private half sealed like the station
# key, the public half sent to every laptop in its enrolment file, which seals its database
# key to it (core.dbkeys). The admin reopens a laptop with it (core.encryption.recover).
S_RECOVERY, S_RECOVERY_PUB = "sync.recovery_key", "sync.recovery_public"


@dataclass(frozen=True)
class DeviceRow:
    """A laptop registered at the station."""

    device_no: int
    name: str
    id: str
    public_key: str = ""
    revoked_at: datetime | None = None
    last_sync: datetime | None = None  # when the station last received a package from it (UTC)
    kind: str = "laptop"  # or "station": a county's member station (docs/levels.md)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def _row(d: Device, last_sync: datetime | None = None) -> DeviceRow:
    return DeviceRow(d.device_no, d.name, d.id, d.public_key, d.revoked_at, last_sync, d.kind or "laptop")


def enrolment_file_name(name: str) -> str:
    """A file name for a laptop's enrolment file: its name, without what a file system refuses."""
    safe = re.sub(r'[\\/:*?"<>|\s.]+', "_", name.strip()).strip("_")[:60] or "laptop"
    return f"登记文件-{safe}.json"


def role(ctx: AppContext) -> str | None:
    """"station", "device" (an enrolled laptop) or None (not set up for sync)."""
    return ctx.setting_or(S_ROLE, "") or None


def ensure_station(ctx: AppContext) -> None:
    """The first registration makes this database a station: an id and a key pair."""
    if role(ctx) == "device":
        raise InvalidInput("本机是已登记到所里的笔记本，不能再登记其他设备")
    if role(ctx) == "station":
        return
    private, _public = new_key_pair()
    ctx._write_settings({S_ROLE: "station", S_STATION_ID: str(uuid.uuid4()),
                         S_PRIVATE: keystore.seal(ctx.device_id, S_PRIVATE, bytes.fromhex(private))})


def _ensure_recovery(ctx: AppContext) -> str:
    """The station's recovery public key (hex), the pair made on first use (a station made by an older version)."""
    public = ctx.setting_or(S_RECOVERY_PUB, "")
    if public and ctx.setting_or(S_RECOVERY, ""):
        return public
    from core.keywrap import new_recipient_key

    private, public = new_recipient_key()
    ctx._write_settings({S_RECOVERY: keystore.seal(ctx.device_id, S_RECOVERY, bytes.fromhex(private)),
                         S_RECOVERY_PUB: public})
    return public


def recovery_public_of(ctx: AppContext) -> str:
    """The recovery public key this database seals its key to: the station's (on a laptop, from enrolment)."""
    return ctx.setting_or(S_RECOVERY_PUB, "")


def recovery_private(ctx: AppContext) -> str:
    """The station's recovery private key (hex), unsealed with the station's local key file."""
    stored = ctx.setting_or(S_RECOVERY, "")
    if role(ctx) != "station" or not stored:
        raise InvalidInput("这个数据库不是所里的电脑（没有恢复密钥），无法恢复笔记本")
    return keystore.unseal(ctx.device_id, S_RECOVERY, stored).hex()


def private_key(ctx: AppContext) -> str:
    """This database's Ed25519 private key (hex), unsealed with the local key file (``core.keystore``).

    A key stored in the clear by an older version is sealed on first use (whoever is logged in).
    """
    stored = ctx.setting_or(S_PRIVATE, "")
    if not stored:
        raise InvalidInput(NOT_SET_UP)
    if keystore.is_sealed(stored):
        return keystore.unseal(ctx.device_id, S_PRIVATE, stored).hex()
    ctx._write_settings({S_PRIVATE: keystore.seal(ctx.device_id, S_PRIVATE, bytes.fromhex(stored))})
    return stored


def add_device(ctx: AppContext, name: str, out: Path | None = None, *, kind: str = "laptop") -> dict[str, Any]:
    """Register a laptop at the station; returns the enrolment data to hand to it.

    The laptop's private key is generated here and travels only in the enrolment file,
    so the station can register a laptop without a network between them. With ``out``
    the file is written inside the transaction, sealed with a one-time code (returned as
    ``enrolment_code``) that the station shows and the laptop's user types: a copied stick
    gives nothing. If the file cannot be written, no device is recorded. The device number
    is one above the highest ever given out: never reused. An admin's action ("manage_devices").
    ``kind="station"``: a station (or a county) below this one, enrolled the same way and
    joining with the same command (``core.sync.levels.join``; docs/levels.md).
    """
    require(ctx, "manage_devices")
    name = name.strip()
    if not name:
        raise InvalidInput("请填写设备名称")
    if name.startswith("上级:"):  # the audit actor of imports from above is "同步:上级:<name>"
        raise InvalidInput("设备名称不能以“上级:”开头")
    if kind not in DEVICE_KINDS:
        raise InvalidInput("设备类型应为笔记本（laptop）或下级所（station）")
    ensure_station(ctx)
    if kind == "laptop":
        _ensure_recovery(ctx)
    private, public = new_key_pair()
    device_id = str(uuid.uuid4())
    wrote: list[Path] = []
    try:
        return _register(ctx, name, out, private, public, device_id, wrote, kind)
    except BaseException:
        for path in wrote:  # written, then the commit failed (a full disk): no device, no key file
            path.unlink(missing_ok=True)
        raise


def _register(ctx: AppContext, name: str, out: Path | None, private: str, public: str,
              device_id: str, wrote: list[Path], kind: str = "laptop") -> dict[str, Any]:
    with ctx.transaction() as s:
        existing = s.scalar(select(Device).where(Device.name == name))
        if existing is not None:
            raise InvalidInput(f"设备“{name}”已吊销，不能再用这个名称登记，请换一个名称" if existing.revoked_at
                               else f"设备“{name}”已登记")
        mark = s.get(Setting, S_LAST_DEVICE_NO, with_for_update=True)
        highest = max(int(mark.value) if mark is not None else 0, s.scalar(select(func.max(Device.device_no))) or 0)
        device_no = highest + 1
        if device_no > MAX_DEVICE_NO:
            raise InvalidInput(f"设备号 1 至 {MAX_DEVICE_NO} 已全部用过（设备号不重复使用），无法再登记设备")
        if mark is None:
            s.add(Setting(key=S_LAST_DEVICE_NO, value=str(device_no)))
        else:
            mark.value = str(device_no)
        s.add(Device(id=device_id, name=name, public_key=public, device_no=device_no, kind=kind))
        enrolment = {
            "format": ENROLMENT_FORMAT, "format_version": FORMAT_VERSION,
            "station_id": ctx.setting(S_STATION_ID), "station_name": ctx.setting("station_name"),
            "station_device_id": ctx.device_id, "station_public_key": public_of(private_key(ctx)),
            "device_id": device_id, "device_name": name, "device_no": device_no,
            "device_private_key": private, "device_public_key": public,
            **({"station_recovery_public": ctx.setting(S_RECOVERY_PUB)} if kind == "laptop" else {"member_kind": kind}),
        }
        if out is not None:
            code = new_enrolment_code()
            write_atomically(Path(out), seal_enrolment(enrolment, code))
            wrote.append(Path(out))
            enrolment = {**enrolment, "enrolment_code": code}
    return enrolment


# --- the enrolment file on the USB stick: sealed with a one-time code ----------------------------

_ENROLMENT_KDF = {"n": 2**15, "r": 8, "p": 1}


def new_enrolment_code() -> str:
    """Twelve random digits, shown as 1234-5678-9012 (about 40 bits, behind scrypt)."""
    digits = "".join(secrets.choice("0123456789") for _ in range(12))
    return "-".join(digits[i:i + 4] for i in range(0, 12, 4))


def _enrolment_key(code: str, salt: bytes, kdf: dict[str, int]) -> bytes:
    digits = "".join(ch for ch in code if ch.isdigit())
    return hashlib.scrypt(digits.encode("ascii"), salt=salt, n=kdf["n"], r=kdf["r"], p=kdf["p"],
                          maxmem=64 * 2**20, dklen=32)


def seal_enrolment(enrolment: dict[str, Any], code: str) -> bytes:
    """The enrolment file's bytes: JSON whose secret part is AES-GCM under scrypt(code)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    plain = json.dumps(enrolment, ensure_ascii=False).encode("utf-8")
    sealed = AESGCM(_enrolment_key(code, salt, _ENROLMENT_KDF)).encrypt(nonce, plain, SEALED_ENROLMENT.encode())
    envelope = {"format": SEALED_ENROLMENT, "format_version": FORMAT_VERSION, "station_name": enrolment["station_name"],
                "device_name": enrolment["device_name"], "kdf": {"scrypt": _ENROLMENT_KDF, "salt": salt.hex()},
                "nonce": nonce.hex(), "ciphertext": base64.b64encode(sealed).decode("ascii")}
    return json.dumps(envelope, ensure_ascii=False, indent=2).encode("utf-8")


def open_enrolment(raw: bytes, code: str) -> dict[str, Any]:
    """The enrolment data from a sealed file and the code the station showed."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(raw) > 64 * 1024:
        raise InvalidInput("登记文件无效（不是本软件生成的设备登记文件）")
    try:
        envelope = json.loads(raw.decode("utf-8"))
        if not isinstance(envelope, dict) or envelope.get("format") != SEALED_ENROLMENT:
            raise ValueError
        kdf = {k: int(envelope["kdf"]["scrypt"][k]) for k in ("n", "r", "p")}
        if kdf != _ENROLMENT_KDF:  # never let a file choose a costly (or a cheap) derivation
            raise ValueError
        salt, nonce = bytes.fromhex(envelope["kdf"]["salt"]), bytes.fromhex(envelope["nonce"])
        sealed = base64.b64decode(envelope["ciphertext"], validate=True)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidInput("登记文件无效（不是本软件生成的设备登记文件）") from None
    if len("".join(ch for ch in code if ch.isdigit())) != 12:
        raise InvalidInput("登记码应为 12 位数字（所里登记设备时显示）")
    try:
        plain = AESGCM(_enrolment_key(code, salt, kdf)).decrypt(nonce, sealed, SEALED_ENROLMENT.encode())
    except InvalidTag:
        raise InvalidInput("登记码不正确（或登记文件已被改动）") from None
    data = json.loads(plain.decode("utf-8"))
    return data if isinstance(data, dict) else {}


def check_enrolment(data: dict[str, Any]) -> None:
    """Refuse enrolment data (a laptop's or a station's) that is not whole, or whose keys do not fit."""
    needed = ("station_id", "station_name", "station_device_id", "station_public_key", "device_id",
              "device_name", "device_no", "device_private_key", "device_public_key")
    if data.get("format") != ENROLMENT_FORMAT or any(k not in data for k in needed):
        raise InvalidInput("登记文件无效（不是本软件生成的设备登记文件）")
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise InvalidInput("登记文件由更新版本的软件生成，请先升级本软件")
    try:
        if public_of(data["device_private_key"]) != data["device_public_key"]:
            raise ValueError
        if len(bytes.fromhex(data["station_public_key"])) != 32:
            raise ValueError
    except (ValueError, TypeError) as exc:
        raise InvalidInput("登记文件中的密钥无效") from exc


def enrol_device(ctx: AppContext, data: dict[str, Any]) -> None:
    """Make this database the station's laptop described by an enrolment file.

    Enrolment runs on a fresh laptop database, before any user exists, as the system (the
    CLI); a logged-in user must be an admin (permission "manage_devices").
    """
    require(ctx, "manage_devices")
    check_enrolment(data)
    if data.get("member_kind", "laptop") != "laptop":
        raise InvalidInput("这是下级所的登记文件（不是笔记本的）：请在所里的电脑上用 devices enrol 导入")
    try:
        recovery = data.get("station_recovery_public") or ""
        if recovery and (not isinstance(recovery, str) or len(bytes.fromhex(recovery)) != 32):
            raise ValueError
    except (ValueError, TypeError) as exc:
        raise InvalidInput("登记文件中的密钥无效") from exc
    if role(ctx) == "station":
        raise InvalidInput("本机是所里的电脑（已登记过设备），不能作为笔记本登记")
    current = ctx.setting_or(S_STATION_ID, "")
    if current and current != data["station_id"]:
        raise InvalidInput("本机已登记到另一个所，不能再登记到这个所")
    ctx._write_settings({
        S_ROLE: "device", S_STATION_ID: data["station_id"], S_STATION_NAME: data["station_name"],
        S_STATION_DEVICE: data["station_device_id"], S_STATION_PUB: data["station_public_key"],
        S_PRIVATE: keystore.seal(data["device_id"], S_PRIVATE, bytes.fromhex(data["device_private_key"])),
        S_DEVICE_NAME: data["device_name"],
        "device_id": data["device_id"], "device_no": str(int(data["device_no"])),
        **({S_RECOVERY_PUB: recovery} if recovery else {}),
    })
    if recovery and ctx.encrypted_file is not None:
        from core import dbkeys

        dbkeys.set_recovery(ctx.encrypted_file, recovery)


def peers(ctx: AppContext, *, required: bool = True) -> list[tuple[str, str]]:
    """Who this database exchanges packages with: [(device id, name)].

    Not set up for sync: ``InvalidInput`` when ``required``, else no peers.
    """
    if role(ctx) == "station":
        above = upstream(ctx)
        return [(d.id, d.name) for d in list_devices(ctx) if not d.revoked] + ([above] if above else [])
    if role(ctx) == "device":
        return [(ctx.setting(S_STATION_DEVICE), ctx.setting(S_STATION_NAME))]
    if required:
        raise InvalidInput(NOT_SET_UP)
    return []


def list_devices(ctx: AppContext) -> list[DeviceRow]:
    """The laptops registered here, by device number, revoked ones included (``revoked_at``),
    each with when its last package arrived (``last_sync``)."""
    with ctx.sessions() as s:
        last = dict(s.execute(select(SyncBatch.peer_id, func.max(SyncBatch.created_at))
                              .where(SyncBatch.direction == "in").group_by(SyncBatch.peer_id)).all())
        return [_row(d, last.get(d.id)) for d in s.scalars(select(Device).order_by(Device.device_no))]


def find_device(ctx: AppContext, device_id: str) -> DeviceRow | None:
    """The registered laptop with this id, if any (revoked or not: see ``revoked``)."""
    with ctx.sessions() as s:
        d = s.get(Device, device_id)
        return None if d is None else _row(d)


def revoke_device(ctx: AppContext, device_id: str) -> DeviceRow:
    """Revoke a laptop (lost or stolen): from now on its packages and hub requests are refused.

    Admin only. The row stays, with ``revoked_at``, so its number is never given out again
    and what it sent before stays attributed to it. There is no un-revoke: register the
    laptop again (a new key, a new number) once it is back in safe hands.
    """
    require(ctx, "manage_devices")
    if role(ctx) != "station":
        raise InvalidInput("只有所里的电脑可以吊销设备")
    with ctx.transaction() as s:
        device = s.get(Device, device_id, with_for_update=True)
        if device is None:
            raise NotFound("找不到该设备")
        if device.revoked_at is not None:
            raise InvalidInput(f"设备“{device.name}”已于 {device.revoked_at:%Y-%m-%d %H:%M} 吊销")
        device.revoked_at = utcnow()
        s.flush()
        return _row(device)


def sender_key(ctx: AppContext, manifest: dict[str, Any], name: str) -> tuple[str, str]:
    """(public key, name) of the sender, who must be registered with our station."""
    sender = str(manifest.get("device_id", ""))
    above = upstream(ctx)
    if above is not None and sender == above[0]:
        return ctx.setting(S_UP_HUB_PUB), above[1]
    if role(ctx) == "station":
        with ctx.sessions() as s:
            device = s.get(Device, sender)
        if device is None:
            raise InvalidInput(f"同步包 {name} 来自未登记的设备，已拒绝")
        if device.revoked_at is not None:
            raise InvalidInput(f"同步包 {name} 来自已吊销的设备“{device.name}”"
                               f"（{device.revoked_at:%Y-%m-%d %H:%M} 吊销），已拒绝")
        return device.public_key, device.name
    if role(ctx) == "device":
        if sender != ctx.setting(S_STATION_DEVICE):
            raise InvalidInput(f"同步包 {name} 不是本所发出的，已拒绝")
        return ctx.setting(S_STATION_PUB), ctx.setting(S_STATION_NAME)
    raise InvalidInput(NOT_SET_UP)


# --- levels: a member of the hub above as well (docs/levels.md) ----------------------------------

def upstream(ctx: AppContext) -> tuple[str, str] | None:
    """(device id, name) of the hub above this station (its county), if it enrolled at one."""
    hub = ctx.setting_or(S_UP_HUB_DEVICE, "")
    return (hub, ctx.setting_or(S_UP_NAME, "")) if hub and role(ctx) == "station" else None


def identity_for(ctx: AppContext, peer: str) -> tuple[str, str, str]:
    """(station id, our device id, our private key) in packages for ``peer``: the hub above
    knows us by the id and key its enrolment file gave; everyone below by our own."""
    above = upstream(ctx)
    if above is not None and peer == above[0]:
        return (ctx.setting(S_UP_STATION_ID), ctx.setting(S_UP_DEVICE),
                keystore.unseal(ctx.device_id, S_UP_PRIVATE, ctx.setting(S_UP_PRIVATE)).hex())
    return ctx.setting(S_STATION_ID), ctx.device_id, private_key(ctx)


def receiving_identity(ctx: AppContext, sender: str) -> tuple[str, str]:
    """(station id, our device id) a package from ``sender`` must name."""
    above = upstream(ctx)
    if above is not None and sender == above[0]:
        return ctx.setting(S_UP_STATION_ID), ctx.setting(S_UP_DEVICE)
    return ctx.setting_or(S_STATION_ID, ""), ctx.device_id


def sender_kind(ctx: AppContext, sender: str) -> str:
    """"above" (a laptop's station, a station's county), "station" (a member station registered
    here) or "laptop" (a laptop registered here), for a sender ``sender_key`` accepted."""
    if role(ctx) == "device" or (upstream(ctx) or ("",))[0] == sender:
        return "above"
    with ctx.sessions() as s:
        device = s.get(Device, sender)
    return "station" if device is not None and device.kind == "station" else "laptop"
