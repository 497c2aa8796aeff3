"""Levels: laptop → station → county → city, each level the hub of the one below (docs/levels.md).

A county registers a station the way a station registers a laptop (``add_device(kind="station")``),
and the station joins with the same command (``join``): from then on it is the hub of its laptops
AND a member of its county (settings ``sync.up.*``), known there by the device id and key pair of
its enrolment file. The same for a county at its city.

* Up: a station's package to its county carries everything the county has not received yet by
  ``sync_base`` — its own records and those its laptops sent (``forwardable``), with the stations
  its own member stations' devices belong to (manifest ``stations``, ``claims``). The county
  files each new record's creating device under the sending station (``assign_stations``);
  a package that would move an assigned device to another station is refused.
* Down: each level sends what it owns and what came from above; a member station never receives
  records of another station, nor rows that refer to them (``drop_other_stations``).
* Consent: a station enrolled at a county joins another county only with the first county's
  release file (``release_member``, signed by its key; the station is revoked there).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core import keystore
from core.errors import InvalidInput, NotFound
from core.files import write_atomically
from core.signing import sign, signature_ok
from core.sync.changes import rows_of
from core.sync.devices import check_enrolment, enrol_device, ensure_station, role, upstream
from core.sync.spec import (
    AUDITED_TABLES, BY_TABLE, FROM_ABOVE, S_STATION_ID, S_UP_DEVICE, S_UP_DEVICE_NAME,
    S_UP_HUB_DEVICE, S_UP_HUB_PUB, S_UP_NAME, S_UP_PRIVATE, S_UP_STATION_ID,
)
from core.sync.validate import UUID, shown
from core.users import require
from db.bulk import chunks, select_in
from db.models import AuditEntry, Device, StationDevice, SyncBase, utcnow

if TYPE_CHECKING:
    from core.context import AppContext
    from core.sync.package import Package

RELEASE_FORMAT = "yxjc-release"
MAX_CLAIMS = 10_000  # devices a package may name the station of (manifest "stations")
MAX_STATION = 200    # characters of a station's name (station_devices.station)


# --- enrolment up ----------------------------------------------------------------------------------

def join(ctx: AppContext, data: dict[str, Any], release: bytes | None = None) -> str:
    """Enrol with an enrolment file: as a laptop of its station, or (``member_kind`` "station") as a
    station of its county. Returns "laptop" or "station"."""
    if data.get("member_kind") == "station":
        enrol_upstream(ctx, data, release)
        return "station"
    if release is not None:
        raise InvalidInput("解除登记文件只用于下级所改登记到另一个上级；笔记本登记无需此文件")
    enrol_device(ctx, data)
    return "laptop"


def enrol_upstream(ctx: AppContext, data: dict[str, Any], release: bytes | None = None) -> None:
    """Make this database a member of the hub above named by ``data`` (besides the hub of its own).

    Refused when already a member of another hub above, unless ``release`` is that hub's
    signed release file for this member (consent). Admin or system ("manage_devices").
    """
    require(ctx, "manage_devices")
    check_enrolment(data)
    if any(UUID.match(str(data[k])) is None for k in ("station_id", "station_device_id", "device_id")):
        raise InvalidInput("登记文件中的编号无效")
    if role(ctx) == "device":
        raise InvalidInput("本机是已登记到所里的笔记本，不能作为下级所登记到上级")
    ensure_station(ctx)
    if data["station_id"] == ctx.setting(S_STATION_ID) or data["station_device_id"] == ctx.device_id:
        raise InvalidInput("这是本库自己发出的登记文件，不能登记到自己")
    current = ctx.setting_or(S_UP_STATION_ID, "")
    if current and current != data["station_id"]:
        name = ctx.setting_or(S_UP_NAME, "")
        if release is None:
            raise InvalidInput(f"本所已登记到上级“{name}”，不能再登记到“{shown(str(data['station_name']), 60)}”："
                               f"须先取得“{name}”的解除登记文件（在该上级运行 devices release），登记时用 --release 提供")
        check_release(ctx, release)
    ctx._write_settings({
        S_UP_STATION_ID: data["station_id"], S_UP_NAME: str(data["station_name"])[:MAX_STATION],
        S_UP_HUB_DEVICE: data["station_device_id"], S_UP_HUB_PUB: data["station_public_key"],
        S_UP_DEVICE: data["device_id"], S_UP_DEVICE_NAME: str(data["device_name"]),
        S_UP_PRIVATE: keystore.seal(ctx.device_id, S_UP_PRIVATE, bytes.fromhex(data["device_private_key"])),
    })


# --- consent: the release file ----------------------------------------------------------------------

def _release_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def release_member(ctx: AppContext, device_id: str, out: Path) -> dict[str, Any]:
    """Release a member station so it may enrol at another hub: it is revoked here (its packages
    and requests refused from now on) and ``out`` gets the release file, signed by our key."""
    from core.sync.devices import private_key, revoke_device

    require(ctx, "manage_devices")
    with ctx.sessions() as s:
        device = s.get(Device, device_id)
        if device is None or device.kind != "station":
            raise NotFound("找不到该下级所（devices list 列出已登记的设备）")
        revoked = device.revoked_at is not None
    if not revoked:
        revoke_device(ctx, device_id)
    body = {"format": RELEASE_FORMAT, "format_version": 1, "hub_station_id": ctx.setting(S_STATION_ID),
            "hub_device_id": ctx.device_id, "hub_name": ctx.setting("station_name"),
            "member_device_id": device.id, "member_name": device.name, "released_at": ctx.clock().isoformat()}
    release = {**body, "signature": sign(private_key(ctx), _release_bytes(body)).hex()}
    write_atomically(Path(out), json.dumps(release, ensure_ascii=False, indent=2).encode("utf-8"))
    return release


def check_release(ctx: AppContext, raw: bytes) -> None:
    """Refuse unless ``raw`` is the current hub above's release of this member, signed by its key."""
    wrong = InvalidInput(f"解除登记文件无效：不是上级“{ctx.setting_or(S_UP_NAME, '')}”为本所签发的解除登记文件")
    try:
        if len(raw) > 16 * 1024:
            raise ValueError
        release = json.loads(raw.decode("utf-8"))
        signature = bytes.fromhex(release.pop("signature"))
        if release.get("format") != RELEASE_FORMAT:
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise wrong from None
    if (release.get("hub_station_id") != ctx.setting_or(S_UP_STATION_ID, "")
            or release.get("hub_device_id") != ctx.setting_or(S_UP_HUB_DEVICE, "")
            or release.get("member_device_id") != ctx.setting_or(S_UP_DEVICE, "")
            or not signature_ok(ctx.setting_or(S_UP_HUB_PUB, ""), _release_bytes(release), signature)):
        raise wrong


# --- up: what the hub above has not received, and whose it is -----------------------------------

def forwardable(session: Session, peer: str, changed: dict[str, set[str]], since: int, upto: int) -> None:
    """Drop from ``changed`` what ``peer`` sent us (changed since the watermark ``since`` only by
    imports from above) and holds at its current version (by ``sync_base``): no echo. The rest
    goes up, whoever made it here — also what an earlier package not yet acknowledged carried
    (``sync_base`` says "sent", not "received"): a lost or refused package costs nothing."""
    sent_here = select(AuditEntry.table_name, AuditEntry.record_id).distinct().where(
        AuditEntry.seq > since, AuditEntry.seq <= upto, ~AuditEntry.actor.startswith(FROM_ABOVE))
    ours: dict[str, set[str]] = {}
    for table, record_id in session.execute(sent_here):
        ours.setdefault(table, set()).add(record_id)
    connection = session.connection()
    for table, ids in changed.items():
        # the ids the peer holds at their current version: one join, the ids as one parameter
        # (``select_in``; ~900 statements of 500 bound ids each before, a third of a county export)
        known = {rid for (rid,) in select_in(
            connection, f'SELECT b.record_id FROM {SyncBase.__tablename__} b JOIN "{BY_TABLE[table].__tablename__}" t '
            "ON t.id = b.record_id WHERE b.peer_id = {p} AND b.table_name = {p} AND t.version <= b.version AND",
            "record_id", sorted(ids), (peer, table))}
        ids -= known - ours.get(table, set())


def claims(session: Session, device_ids: set[str]) -> dict[str, str]:
    """device id → station, of the devices in ``device_ids`` that belong to our member stations."""
    found: dict[str, str] = {}
    for chunk in chunks(sorted(device_ids)):
        found.update(session.execute(select(StationDevice.device_id, StationDevice.station).where(
            StationDevice.device_id.in_(chunk))).all())
    return found


def claims_problem(value: Any) -> str | None:
    """What is wrong with a manifest's ``stations`` (hostile until validated), or None."""
    if not isinstance(value, dict) or len(value) > MAX_CLAIMS:
        return f"字段 stations 应为 {{设备编号: 站所名称}}（至多 {MAX_CLAIMS:,} 项）"
    for device, station in value.items():
        if UUID.match(device) is None or type(station) is not str or not 0 < len(station) <= 100:
            return "字段 stations 应为 {设备编号（UUID）: 站所名称（1–100 字）}"
    return None


def assign_stations(ctx: AppContext, session: Session, pkg: Package, sender_name: str) -> int:
    """File the creating device of every record new here under the member station that sent it
    (``station_devices``); returns how many devices were added.

    A device its package names in ``stations`` (the sender's own member stations) goes under
    "<sender>/<station>". Refused, the whole package: a new record made by a device of this
    level (ours, one registered here, the hub above), or by a device filed under another station;
    a record whose number or user name another record here holds (``refuse_clashes``).
    """
    name = shown(pkg.path.name, 120)
    refuse_clashes(ctx, session, pkg)
    claimed = pkg.manifest.get("stations") or {}
    new_devices: set[str] = set()
    for table, rows in pkg.records.items():
        if table not in AUDITED_TABLES or not rows:
            continue
        model = BY_TABLE[table]
        here: set[str] = set()
        for chunk in chunks([r["id"] for r in rows]):
            here |= set(session.scalars(select(model.id).where(model.id.in_(chunk))))
        new_devices |= {r["device_id"] for r in rows if r["id"] not in here}
    if not new_devices:
        return 0
    ours = {ctx.device_id, *(session.scalars(select(Device.id))), (upstream(ctx) or ("",))[0]}
    wanted = {d: f"{sender_name}/{claimed[d]}" if d in claimed else sender_name for d in new_devices}
    filed = claims(session, new_devices)
    added = []
    for device, station in sorted(wanted.items()):
        if device in ours:
            raise InvalidInput(f"同步包 {name} 含有本级设备 {device[:8]} 创建的新记录，已拒绝：下级所只能提交"
                               "它自己和它的笔记本创建的记录；未导入任何内容")
        if device in filed and filed[device] != station:
            raise InvalidInput(f"同步包 {name} 含有设备 {device[:8]} 创建的新记录，但该设备属于“{filed[device]}”，"
                               f"不属于“{station}”：已拒绝，未导入任何内容")
        if device not in filed:
            added.append({"device_id": device, "station": station[:MAX_STATION], "assigned_at": utcnow()})
    if added:
        session.execute(insert(StationDevice.__table__), added)
    return len(added)


# What must be unique here and is not unique across stations by itself: document numbers (each
# station numbers its own, ``core.numbering``: two stations with the same prefix issue the same
# numbers) and users' names and 执法证号 (each station keeps its own list). A level above cannot
# hold two of one side by side; the package is refused in one line that says what to change.
_SAME_NUMBER = ("编号“{value}”在本级已被“{holder}”的另一份文书使用：同一上级下各站所的文书编号前缀必须各不相同"
                "（在站所设置中修改编号前缀）")
UNIQUE_HERE: dict[str, tuple[tuple[str, str], ...]] = {
    **{table: (("number", label + _SAME_NUMBER),) for table, label in (
        ("inspections", "检查记录"), ("rectifications", "责令改正通知书"), ("voided_numbers", "作废登记"),
        ("questionings", "询问笔录"), ("service_receipts", "送达回证"), ("case_documents", "案件文书"))},
    "users": (("name", "用户“{value}”在本级已有同名用户（“{holder}”的）：同一上级下各站所的用户姓名必须各不相同"
                       "（在本所的用户管理中改名，例如加上所名）"),
              ("cert_no", "执法证号 {value} 在本级已由“{holder}”登记：同一执法人员只能在一个站所登记")),
}


def refuse_clashes(ctx: AppContext, session: Session, pkg: Package) -> None:
    """Refuse a package from a member station or from the level above when one of its records
    carries a value another record here already has in a column unique here (``UNIQUE_HERE``):
    another station's record, or this level's own. Before anything is written."""
    name = shown(pkg.path.name, 120)
    for table, rows in pkg.records.items():
        if table in UNIQUE_HERE and rows:
            _refuse_clash(ctx, session, name, table, rows)


def _refuse_clash(ctx: AppContext, session: Session, name: str, table: str, rows: list[dict]) -> None:
    model = BY_TABLE[table]
    for column, message in UNIQUE_HERE[table]:
        wanted = {r[column]: r["id"] for r in rows if isinstance(r.get(column), str) and r[column]}
        for chunk in chunks(sorted(wanted)):
            for value, record_id, device in session.execute(select(
                    getattr(model, column), model.id, model.device_id).where(getattr(model, column).in_(chunk))):
                if record_id == wanted[value]:
                    continue
                holder = claims(session, {device}).get(device) or ctx.setting_or("station_name", "") or "本级"
                raise InvalidInput(f"同步包 {name} 的" + message.format(value=shown(value, 80), holder=holder)
                                   + "，已拒绝，未导入任何内容")


# --- secrets stay where they are -------------------------------------------------------------------

SECRETS = {"users": "password_hash", "officer_keys": "wrapped_key"}


def keep_secrets(session: Session, table: str, remote: dict[str, Any]) -> dict[str, Any]:
    """``remote`` with the password verifier (or wrapped key) this database holds for it, when the
    sender's copy has none: between levels they are never sent up, so a county's edit of a
    station's officer, coming back down, must not wipe the officer's password at the station."""
    column = SECRETS[table]
    if remote.get(column) is not None:
        return remote
    model = BY_TABLE[table].__table__
    mine = session.scalar(select(model.c[column]).where(model.c.id == remote["id"]))
    return remote if mine is None else {**remote, column: mine}


# --- down: nothing of another station -------------------------------------------------------------

def drop_other_stations(session: Session, target: str, changed: dict[str, set[str]]) -> None:
    """Drop from ``changed`` (records for member station ``target``) every record made by a device
    of another station, and every row that refers to one (a task for another station's subject)."""
    foreign = {d for d, station in session.execute(select(StationDevice.device_id, StationDevice.station))
               if station != target and not station.startswith(f"{target}/")}
    if not foreign:
        return
    owner: dict[tuple[str, str], bool] = {}  # (table, id) → made by another station

    def alien(table: str, record_id: str) -> bool:
        if (table, record_id) not in owner:
            model = BY_TABLE[table].__table__
            device = session.scalar(select(model.c.device_id).where(model.c.id == record_id))
            owner[(table, record_id)] = device in foreign
        return owner[(table, record_id)]

    dropping = True
    while dropping:
        dropping = False
        for table, ids in changed.items():
            model = BY_TABLE[table]
            links = [(c.key, fk.column.table.name) for c in model.__table__.columns for fk in c.foreign_keys
                     if fk.column.table.name in AUDITED_TABLES]
            out = set()
            for row in rows_of(session, model, sorted(ids)):
                if row["device_id"] in foreign or any(
                        row[column] and alien(parent, row[column]) for column, parent in links):
                    out.add(row["id"])
                    owner[(table, row["id"])] = True
            if out:
                ids -= out
                dropping = True
