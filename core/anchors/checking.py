"""Checking the audit chain against every anchor that can be found; anchors around backups and restores."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from sqlalchemy import inspect as sa_inspect

from core.audit import ChainCheck, verify_chain
from core.errors import InvalidInput
from core.signing import public_of
from db import cipher
from core.anchors.sealing import (
    ANCHOR_KEY, KNOWN_KEYS, STATION_DEVICE, STATION_PUB, SYNC_KEY, Anchor, _append, _db_file, _put_setting,
    _rows, _settings, anchor_file, read_file, seal, seal_now, trusted_keys,
)

if TYPE_CHECKING:
    pass

    from core.context import AppContext

# --- verifying -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    anchor: Anchor
    where: str  # the anchor's source, as people call it


def _short(digest: str) -> str:
    return digest[:16] + "…"


def _superseded(anchor: Anchor, restores: Iterable[Anchor]) -> bool:
    return any(r.at > anchor.at and r.seq < anchor.seq for r in restores)


def _backups(db_file: Path) -> list[Path]:
    """The database's backups (``core.backup.list_backups``; not imported: core.backup imports this module)."""
    folder = db_file.parent / f"{db_file.stem}-backups"
    return sorted(folder.glob(f"{db_file.stem}-*.db"), reverse=True) if folder.is_dir() else []


def _backup_claims(db_file: Path) -> tuple[list[Claim], list[str]]:
    from core import dbkeys

    claims, notes = [], []
    for backup in _backups(db_file):
        try:
            dbkeys.adopt_backup_key(backup, db_file)
            con = cipher.connect(backup, readonly=True)
            try:
                rows = con.execute(
                    "SELECT device_id, kind, seq, hash, at, public_key, signature FROM audit_anchors"
                    " WHERE source = 'self' AND (kind = 'restore' OR id = (SELECT max(id) FROM audit_anchors"
                    " WHERE source = 'self' AND kind = 'seal'))").fetchall()
            finally:
                con.close()
        except cipher.ERRORS:
            notes.append(f"备份 {backup.name} 中没有锚点")
            continue
        claims += [Claim(Anchor(*row), f"备份 {backup.name}") for row in rows]
    return claims, notes


def _peer_claims(peer_db: Path, device_ids: set[str]) -> list[Claim]:
    if not Path(peer_db).is_file():
        raise InvalidInput(f"找不到对方的数据库 {peer_db}")
    try:
        from core import dbkeys

        dbkeys.unlock_at_hand(peer_db)
        con = cipher.connect(peer_db, readonly=True)
        try:
            rows = con.execute("SELECT device_id, kind, seq, hash, at, public_key, signature FROM audit_anchors"
                               " WHERE source = 'peer'").fetchall()
        finally:
            con.close()
    except cipher.ERRORS as exc:
        raise InvalidInput(f"{Path(peer_db).name} 不是本软件的数据库，或其中没有锚点") from exc
    return [Claim(Anchor(*row), f"对方数据库 {Path(peer_db).name} 保存的锚点") for row in rows if row[0] in device_ids]


def _peer_problems(connection) -> tuple[list[str], int]:
    """Anchors this database keeps for its peers: signed by the peer's registered key, never going back."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    keys: dict[str, tuple[str, str]] = {}
    if sa_inspect(connection).has_table("devices"):
        keys.update({d: (k, n) for d, k, n in connection.exec_driver_sql("SELECT id, public_key, name FROM devices")})
    station = _settings(connection, STATION_DEVICE, STATION_PUB, "sync.station_name")
    if station.get(STATION_DEVICE):
        keys[station[STATION_DEVICE]] = (station.get(STATION_PUB, ""), station.get("sync.station_name", "所里"))
    problems, count = [], 0
    for device in [r[0] for r in connection.exec_driver_sql(
            "SELECT DISTINCT device_id FROM audit_anchors WHERE source = 'peer'")]:
        held = _rows(connection, f"WHERE source = 'peer' AND device_id = {mark}", (device,))
        key, name = keys.get(device, ("", device[:8]))
        count += len(held)
        bad = [a for a in held if a.key != key or not a.signed()]
        if bad:
            problems.append(f"为设备 {name} 保存的 {len(bad)} 个锚点签名无效（被改动过）")
            continue
        restores = [a for a in held if a.kind == "restore"]
        seals = sorted((a for a in held if a.kind == "seal" and not _superseded(a, restores)), key=lambda a: a.at)
        for earlier, later in zip(seals, seals[1:]):
            if later.seq < earlier.seq or (later.seq == earlier.seq and later.hash != earlier.hash):
                problems.append(
                    f"设备 {name} 的审计记录倒退：{earlier.at[:19]} 的同步包记载至第 {earlier.seq} 条"
                    f"（哈希 {_short(earlier.hash)}），{later.at[:19]} 的只到第 {later.seq} 条"
                    f"（哈希 {_short(later.hash)}）：该设备的审计记录可能被删除或改写")
                break
    return problems, count


def _admit(claims: Iterable[Claim], trusted: set[str], problems: list[str], refused: Callable[[Claim], str]
           ) -> list[Claim]:
    """The claims signed by a key this database trusts; a problem for each of the others."""
    admitted = []
    for claim in claims:
        if claim.anchor.key in trusted and claim.anchor.signed():
            admitted.append(claim)
        else:
            problems.append(refused(claim))
    return admitted


def verify_audit(ctx: AppContext, *, peer_db: Path | None = None) -> ChainCheck:
    """The chain, checked link by link and against every anchor found (``audit verify``)."""
    engine = ctx.engine
    with engine.connect() as connection:
        if not sa_inspect(connection).has_table("audit_anchors"):
            return verify_chain(ctx, workers=2)
        trusted = trusted_keys(connection)
        own = _rows(connection, "WHERE source = 'self'")
        peer_problems, peer_count = _peer_problems(connection)
        device_id = _settings(connection, "device_id").get("device_id", "")
    problems: list[str] = []
    claims = _admit((Claim(a, "数据库内的锚点") for a in own), trusted, problems,
                    lambda c: f"数据库内第 {c.anchor.seq} 条的锚点签名无效（被改动过）")
    counts = {"数据库": len(own), "锚点文件": 0, "备份": 0}
    path = anchor_file(engine)
    if path is not None:
        if path.is_file():
            lines, unreadable = read_file(path)
            counts["锚点文件"] = len(lines)
            problems += [f"锚点文件 {path.name} 第 {n} 行无法读取（被改动过）" for n in unreadable]
            numbers = {id(a): n for n, a in lines}
            claims += _admit((Claim(a, f"锚点文件 {path.name}") for _n, a in lines), trusted, problems,
                             lambda c: f"锚点文件 {path.name} 第 {numbers[id(c.anchor)]} 行的签名无效"
                                       "（被改动过，或不是本机的密钥签发）")
            in_file = {a.signature for _n, a in lines}
            lacking = [a for a in own if a.signature not in in_file]
            if lacking:
                problems.append(f"锚点文件 {path.name} 缺少数据库记载的 {len(lacking)} 个锚点（最新缺少的：第 "
                                f"{lacking[-1].seq} 条，{lacking[-1].at[:19]}）：文件被截断、删改或替换")
        elif own:
            problems.append(f"锚点文件 {path.name} 不存在，但数据库记载了 {len(own)} 个锚点：文件被删除或移走")
        backups, _notes = _backup_claims(_db_file(engine))
        counts["备份"] = len(backups)
        claims += _admit(backups, trusted, problems, lambda c: f"{c.where} 中的锚点签名无效（被改动过）")
    if peer_db is not None:
        claims += _admit(_peer_claims(peer_db, {device_id}), trusted, problems,
                         lambda c: f"{c.where}签名无效（被改动过，或不是本机的密钥签发）")
    restores = [c.anchor for c in claims if c.anchor.kind == "restore"]
    live = [c for c in claims if not _superseded(c.anchor, restores) and c.anchor.seq > 0]
    check = verify_chain(ctx, at_seqs={c.anchor.seq for c in live}, workers=2)  # a long log on two cores
    if not check.ok:
        return ChainCheck(False, check.entries, check.bad_seq, "；".join(_unique([check.message, *problems])))
    beyond = [c for c in live if c.anchor.seq > check.entries]
    if beyond:
        worst = max(beyond, key=lambda c: c.anchor.seq)
        problems.insert(0, f"审计记录缺失：锚点记载至第 {worst.anchor.seq} 条（哈希 {_short(worst.anchor.hash)}，"
                           f"{worst.anchor.at[:19]} 封存），数据库只有 {check.entries} 条"
                           f"（据：{'、'.join(sorted({c.where for c in beyond}))}）")
    rewritten = sorted((c for c in live if c.anchor.seq <= check.entries
                        and check.found.get(c.anchor.seq) != c.anchor.hash), key=lambda c: c.anchor.seq)
    if rewritten:
        first = rewritten[0].anchor
        problems.insert(0, f"审计记录被改写：第 {first.seq} 条的哈希与锚点不符（锚点 {_short(first.hash)}，"
                           f"数据库 {_short(check.found.get(first.seq, ''))}；据："
                           f"{'、'.join(sorted({c.where for c in rewritten}))}）：第 {first.seq} 条及之前的记录"
                           f"被改动后整条链重新计算过")
    problems += peer_problems
    if problems:
        return ChainCheck(False, check.entries, None, "；".join(_unique(problems)), check.found)
    if not claims and not peer_count:
        note = "；注意：没有找到任何锚点（数据库、锚点文件、备份），无法发现末尾被删除或整条重算的记录"
    else:
        note = (f"；与 {len({c.anchor.signature for c in live})} 个锚点一致（"
                + "、".join(f"{k} {v}" for k, v in counts.items()) + "）")
        if peer_count:
            note += f"；为对方保存的 {peer_count} 个锚点无误"
    return ChainCheck(True, check.entries, None, check.message + note, check.found)


def _unique(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


# --- backups ----------------------------------------------------------------------------------

def seal_database_file(db_file: Path) -> None:
    """Before a backup: seal the head so that the copy holds an anchor of its own head."""
    from sqlalchemy.exc import SQLAlchemyError

    from db.engine import make_engine

    engine = make_engine(db_file)
    try:
        seal_now(engine)
    except SQLAlchemyError:
        pass  # an older schema, a locked file: the backup is still made
    finally:
        engine.dispose()


def known_keys_of(db_file: Path) -> set[str]:
    """Before a restore: the keys that sealed the database about to be replaced."""
    try:
        con = cipher.connect(db_file, readonly=True)
        try:
            rows = dict(con.execute("SELECT key, value FROM settings WHERE key IN (?, ?, ?)",
                                    (SYNC_KEY, ANCHOR_KEY, KNOWN_KEYS)).fetchall())
        finally:
            con.close()
    except cipher.ERRORS:
        return set()
    keys = set(rows.get(KNOWN_KEYS, "").split())
    for name in (SYNC_KEY, ANCHOR_KEY):
        if rows.get(name):
            try:
                keys.add(public_of(rows[name]))
            except ValueError:
                pass
    return keys


def note_restore(db_file: Path, previous_keys: set[str]) -> None:
    """After a restore: a "restore" anchor in the restored database and in the file.

    The chain now ends where the backup's did; anchors sealed before, above that point,
    no longer apply. The replaced database's keys stay trusted for its older anchors.
    A backup from before the anchors table gets the line in the file only.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from db.engine import make_engine

    engine = make_engine(db_file)
    try:
        with engine.begin() as connection:
            stored = sa_inspect(connection).has_table("audit_anchors")
            known = _settings(connection, KNOWN_KEYS).get(KNOWN_KEYS, "").split()
            merged = [*known, *sorted(k for k in previous_keys if k not in known)]
            if merged != known:
                _put_setting(connection, KNOWN_KEYS, " ".join(merged))
            anchor = seal(connection, kind="restore", store=stored)
        path = anchor_file(engine)
        if anchor is not None and path is not None:
            _append(path, [anchor])
    except SQLAlchemyError:
        pass  # not a database of this app after all: the restore itself already told
    finally:
        engine.dispose()
