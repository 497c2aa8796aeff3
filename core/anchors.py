"""Audit anchors: the head of the audit chain, sealed and kept outside the chain's table.

The chain (``core.audit``) finds an edited, removed or reordered entry, but not a cut-off
tail, an emptied table or a chain recomputed from scratch. An anchor is the chain's head
— (seq, hash) of its last entry — signed with this database's key (Ed25519: the sync
device key ``sync.private_key``; a database not set up for sync gets a local anchor key,
``audit.anchor_private_key``, see ``anchor_private_key``). Anchors are kept

* in the database (``audit_anchors``, source "self"), in the same transaction as the
  entries they seal;
* in a signed, append-only file beside the database, ``<db>.anchors`` (one JSON line per
  anchor), written just after that transaction commits;
* in every backup (``core.backup`` seals just before copying, so the copy holds an anchor
  of its own head);
* at the peer on every sync: an exported package's manifest carries the sender's newest
  anchor, and the receiver keeps it (``audit_anchors``, source "peer").

When: a transaction that adds audit entries seals them just before it commits, unless
this process sealed less than ``SEAL_EVERY`` seconds ago; what is left unsealed then is
sealed by the next such transaction, by ``ctx.close()``, at process exit, before a
backup and before a sync export. At most ``SEAL_EVERY`` seconds of entries are unsealed
when a process is killed.

``verify_audit`` checks the chain against every anchor it can find: the database's, the
file's, the backups', the peer's (``peer_db``). An anchor beyond the chain's end (entries
deleted), or whose hash differs from the chain's entry at its seq (the chain rewritten),
an anchor line whose signature fails, or the file missing anchors the database recorded,
is reported. A restore from a backup (``note_restore``) seals a "restore" anchor: older
anchors above its seq no longer apply.
"""
from __future__ import annotations

import atexit
import json
import os
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from sqlalchemy import Engine, inspect as sa_inspect

from core.audit import ChainCheck, verify_chain
from core.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.context import AppContext

SEAL_EVERY = 30.0  # seconds between seals inside transactions, per process and database
SYNC_KEY = "sync.private_key"               # = core.sync.spec.S_PRIVATE (core.sync imports this module)
STATION_DEVICE, STATION_PUB = "sync.station_device_id", "sync.station_public_key"
ANCHOR_KEY = "audit.anchor_private_key"    # a database not set up for sync: its own anchor key
KNOWN_KEYS = "audit.anchor_public_keys"    # every public key that ever sealed here, space-separated
DOMAIN = b"yxjc-audit-anchor-1\n"
FIELDS = ("at", "device", "hash", "key", "kind", "seq", "signature")
FLAG = "audit.appended"                     # connection.info: this transaction chained entries

_last_seal: "weakref.WeakKeyDictionary[Engine, float]" = weakref.WeakKeyDictionary()
_pending: "weakref.WeakSet[Engine]" = weakref.WeakSet()
_lock = threading.Lock()
_exit_hook = False


# --- one anchor ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Anchor:
    device: str
    kind: str       # "seal" or "restore"
    seq: int
    hash: str
    at: str         # UTC, ISO 8601 with microseconds
    key: str        # public key (hex) that signed it
    signature: str  # hex

    def payload(self) -> bytes:
        body = {"at": self.at, "device": self.device, "hash": self.hash, "key": self.key, "kind": self.kind,
                "seq": self.seq}
        return DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def signed(self) -> bool:
        return _verify(self.key, self.payload(), self.signature)

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "device": self.device, "hash": self.hash, "key": self.key, "kind": self.kind,
                "seq": self.seq, "signature": self.signature}

    @classmethod
    def from_dict(cls, data: Any) -> Anchor:
        """From a file line or a manifest; ``ValueError`` unless every field has its type."""
        if not isinstance(data, dict) or set(data) != set(FIELDS):
            raise ValueError("fields")
        seq = data["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2 ** 53:
            raise ValueError("seq")
        text = {k: data[k] for k in FIELDS if k != "seq"}
        if not all(isinstance(v, str) for v in text.values()):
            raise ValueError("types")
        if data["kind"] not in ("seal", "restore") or not _hex(data["hash"], 64) or not _hex(data["key"], 64) \
                or not _hex(data["signature"], 128) or not 0 < len(data["device"]) <= 36 or len(data["at"]) > 32:
            raise ValueError("values")
        datetime.fromisoformat(data["at"])
        return cls(data["device"], data["kind"], seq, data["hash"], data["at"], data["key"], data["signature"])


def _hex(text: str, length: int) -> bool:
    return len(text) == length and all(c in "0123456789abcdef" for c in text)


def _sign(private_hex: str, data: bytes) -> str:
    # the same Ed25519 keys as core.sync.keys (not imported: core.sync imports this module)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex)).sign(data).hex()


def _verify(public_hex: str, data: bytes, signature_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(bytes.fromhex(signature_hex), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _public_of(private_hex: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _new_private() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()


# --- keys and settings (raw SQL: sealing runs inside any transaction, ORM or not) --------------

def _settings(connection, *keys: str) -> dict[str, str]:
    marks = ", ".join(["?" if connection.dialect.paramstyle == "qmark" else "%s"] * len(keys))
    rows = connection.exec_driver_sql(f"SELECT key, value FROM settings WHERE key IN ({marks})", tuple(keys))
    return {k: v for k, v in rows}


def _put_setting(connection, key: str, value: str) -> None:
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(f"DELETE FROM settings WHERE key = {mark}", (key,))
    connection.exec_driver_sql(f"INSERT INTO settings (key, value) VALUES ({mark}, {mark})", (key, value))


def anchor_private_key(connection) -> str:
    """The key that seals anchors: the one place it is read (issue 10 item 7 will wrap it).

    The sync device key when the database is set up for sync, else a local anchor key,
    made on first use and stored in the settings.
    """
    found = _settings(connection, SYNC_KEY, ANCHOR_KEY)
    if found.get(SYNC_KEY):
        return found[SYNC_KEY]
    if found.get(ANCHOR_KEY):
        return found[ANCHOR_KEY]
    private = _new_private()
    _put_setting(connection, ANCHOR_KEY, private)
    return private


def trusted_keys(connection) -> set[str]:
    """Public keys whose anchors this database accepts as its own: every key that sealed here."""
    found = _settings(connection, SYNC_KEY, ANCHOR_KEY, KNOWN_KEYS)
    keys = set(found.get(KNOWN_KEYS, "").split())
    for name in (SYNC_KEY, ANCHOR_KEY):
        if found.get(name):
            try:
                keys.add(_public_of(found[name]))
            except ValueError:
                pass
    return keys


def _remember_key(connection, public: str) -> None:
    known = _settings(connection, KNOWN_KEYS).get(KNOWN_KEYS, "")
    if public not in known.split():
        _put_setting(connection, KNOWN_KEYS, " ".join([*known.split(), public]))


# --- sealing -----------------------------------------------------------------------------------

def _head(connection) -> tuple[int, str] | None:
    row = connection.exec_driver_sql("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").first()
    return (int(row[0]), row[1]) if row is not None else None


def _rows(connection, where: str = "", params: tuple = ()) -> list[Anchor]:
    rows = connection.exec_driver_sql(
        "SELECT device_id, kind, seq, hash, at, public_key, signature FROM audit_anchors"
        f" {where} ORDER BY id", params)
    return [Anchor(*row) for row in rows]


def _newest_self(connection, kind: str = "seal") -> Anchor | None:
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    row = connection.exec_driver_sql(
        "SELECT device_id, kind, seq, hash, at, public_key, signature FROM audit_anchors"
        f" WHERE source = 'self' AND kind = {mark} ORDER BY id DESC LIMIT 1", (kind,)).first()
    return Anchor(*row) if row is not None else None


def seal(connection, *, kind: str = "seal", store: bool = True) -> Anchor | None:
    """Seal the chain's head into ``audit_anchors`` (in the caller's transaction); None if sealed already.

    ``store=False``: only sign it (a database from before the anchors table).
    """
    head = _head(connection)
    if kind == "seal" and head is None:
        return None
    private = anchor_private_key(connection)
    public = _public_of(private)
    if kind == "seal":
        last = _newest_self(connection)
        if last is not None and (last.seq, last.hash, last.key) == (*head, public):
            return None
    seq, digest = head if head is not None else (0, "0" * 64)
    device = _settings(connection, "device_id").get("device_id", "")
    _remember_key(connection, public)
    at = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")
    unsigned = Anchor(device, kind, seq, digest, at, public, "")
    anchor = Anchor(device, kind, seq, digest, at, public, _sign(private, unsigned.payload()))
    if store:
        _insert(connection, "self", anchor)
    return anchor


def _insert(connection, source: str, anchor: Anchor) -> None:
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        "INSERT INTO audit_anchors (source, device_id, kind, seq, hash, at, public_key, signature, stored_at)"
        f" VALUES ({', '.join([mark] * 9)})",
        (source, anchor.device, anchor.kind, anchor.seq, anchor.hash, anchor.at, anchor.key, anchor.signature,
         datetime.now(timezone.utc).replace(tzinfo=None)))


def seal_before_commit(session: Session, connection) -> None:
    """``core.guards``: this transaction chained entries; seal them now unless sealed recently."""
    if not connection.info.pop(FLAG, False):
        return
    engine = connection.engine
    with _lock:
        last = _last_seal.get(engine)
        if last is not None and time.monotonic() - last < SEAL_EVERY:
            _pending.add(engine)
            _hook_exit()
            return
    anchor = seal(connection)
    if anchor is not None:
        path = anchor_file(engine)
        session.info["anchors.file"] = (path, _missing_from_file(connection, path, anchor))
    with _lock:
        _last_seal[engine] = time.monotonic()
        _pending.discard(engine)


def after_commit(session: Session) -> None:
    """``core.guards``: the sealed anchor is committed; now into the file beside the database."""
    item = session.info.pop("anchors.file", None)
    if item is not None and item[0] is not None:
        _append(item[0], item[1])


def seal_now(engine: Engine) -> Anchor | None:
    """Seal the head in a transaction of its own (close, backup, sync export); returns the newest seal."""
    with engine.begin() as connection:
        if not sa_inspect(connection).has_table("audit_anchors"):
            return None
        anchor = seal(connection)
        newest = anchor or _newest_self(connection)
        missing = _missing_from_file(connection, anchor_file(engine), anchor) if anchor is not None else []
    path = anchor_file(engine)
    if anchor is not None and path is not None:
        _append(path, missing)
    with _lock:
        _last_seal[engine] = time.monotonic()
        _pending.discard(engine)
    return newest


def seal_if_pending(engine: Engine) -> None:
    """``ctx.close()``: seal what a throttled transaction left unsealed (if the database lets us now)."""
    from sqlalchemy.exc import SQLAlchemyError

    if engine in _pending:
        try:
            seal_now(engine)
        except SQLAlchemyError:
            pass  # busy or gone: the next transaction that chains entries seals them all


def _hook_exit() -> None:
    global _exit_hook
    if not _exit_hook:
        _exit_hook = True
        atexit.register(_seal_all_pending)


def _seal_all_pending() -> None:
    for engine in list(_pending):
        path = _db_file(engine)
        if path is not None and not path.is_file():
            continue
        try:
            seal_now(engine)
        except Exception:  # noqa: BLE001 - at exit nothing may be raised; the next seal covers it
            pass


# --- the file beside the database --------------------------------------------------------------

def _db_file(engine: Engine) -> Path | None:
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def anchor_file(engine: Engine) -> Path | None:
    """``<db>.anchors`` beside an SQLite database file; None for a server database."""
    db = _db_file(engine)
    return anchor_file_for(db) if db is not None else None


def anchor_file_for(db_file: Path) -> Path:
    return Path(f"{db_file}.anchors")


def _append(path: Path, anchors: list[Anchor]) -> None:
    """Append lines (O_APPEND: one write per line, never a rewrite), 0600, synced to disk."""
    if not anchors:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError:
        return  # the database's own anchors still hold; the next seal writes the file again
    try:
        for anchor in anchors:
            os.write(fd, (json.dumps(anchor.as_dict(), sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _last_line(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 4096))
            lines = fh.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    return lines[-1] if lines else None


def _missing_from_file(connection, path: Path | None, anchor: Anchor) -> list[Anchor]:
    """What to append: the new anchor, and any the file lacks since its last line.

    A process killed between a commit and its file write leaves the file one anchor
    short; the next seal writes it. A file whose last line the database does not know
    (deleted, replaced) gets only the new anchor: what it lost stays visible to ``verify_audit``.
    """
    if path is None:
        return []
    last = _last_line(path)
    try:
        signature = json.loads(last)["signature"] if last else None
    except (ValueError, KeyError, TypeError):
        signature = None
    if not isinstance(signature, str):
        return [anchor]
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    found = connection.exec_driver_sql(
        f"SELECT id FROM audit_anchors WHERE source = 'self' AND signature = {mark}", (signature,)).first()
    if found is None:
        return [anchor]
    return _rows(connection, f"WHERE source = 'self' AND id > {mark}", (found[0],)) or [anchor]


def read_file(path: Path) -> tuple[list[tuple[int, Anchor]], list[int]]:
    """The file's anchors (line number, anchor) and the numbers of lines that do not parse."""
    good, bad = [], []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            text = raw.decode("utf-8", "replace").strip()
            if not text:
                continue
            try:
                good.append((number, Anchor.from_dict(json.loads(text))))
            except (ValueError, TypeError):
                bad.append(number)
    return good, bad


# --- sync: the peer keeps the sender's anchor --------------------------------------------------

def for_manifest(engine: Engine) -> dict[str, Any]:
    """What an exported manifest carries: the sender's newest seal (made now) and restore."""
    newest = seal_now(engine)
    out: dict[str, Any] = {}
    if newest is not None:
        out["audit_anchor"] = newest.as_dict()
    with engine.connect() as connection:
        restore = _newest_self(connection, "restore") if sa_inspect(connection).has_table("audit_anchors") else None
    if restore is not None:
        out["audit_restore"] = restore.as_dict()
    return out


def receive(session: Session, manifest: dict[str, Any], sender_public_key: str, package_name: str) -> None:
    """Keep the sender's anchors from a verified manifest (in the import's transaction)."""
    connection = session.connection()
    for field in ("audit_anchor", "audit_restore"):
        if field not in manifest:
            continue
        try:
            anchor = Anchor.from_dict(manifest[field])
        except (ValueError, TypeError):
            anchor = None
        if anchor is None or anchor.device != manifest.get("device_id") or anchor.key != sender_public_key \
                or not anchor.signed() or anchor.kind != ("seal" if field == "audit_anchor" else "restore"):
            raise InvalidInput(f"同步包 {package_name} 的审计锚点无效（格式错误或签名不符），已拒绝")
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        known = connection.exec_driver_sql(
            f"SELECT 1 FROM audit_anchors WHERE source = 'peer' AND signature = {mark}", (anchor.signature,)).first()
        if known is None:
            _insert(connection, "peer", anchor)


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
    claims, notes = [], []
    for backup in _backups(db_file):
        try:
            con = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
            try:
                rows = con.execute(
                    "SELECT device_id, kind, seq, hash, at, public_key, signature FROM audit_anchors"
                    " WHERE source = 'self' AND (kind = 'restore' OR id = (SELECT max(id) FROM audit_anchors"
                    " WHERE source = 'self' AND kind = 'seal'))").fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            notes.append(f"备份 {backup.name} 中没有锚点")
            continue
        claims += [Claim(Anchor(*row), f"备份 {backup.name}") for row in rows]
    return claims, notes


def _peer_claims(peer_db: Path, device_ids: set[str]) -> list[Claim]:
    if not Path(peer_db).is_file():
        raise InvalidInput(f"找不到对方的数据库 {peer_db}")
    try:
        con = sqlite3.connect(f"file:{peer_db}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT device_id, kind, seq, hash, at, public_key, signature FROM audit_anchors"
                               " WHERE source = 'peer'").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
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
            return verify_chain(ctx)
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
    check = verify_chain(ctx, at_seqs={c.anchor.seq for c in live})
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
        con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
        try:
            rows = dict(con.execute("SELECT key, value FROM settings WHERE key IN (?, ?, ?)",
                                    (SYNC_KEY, ANCHOR_KEY, KNOWN_KEYS)).fetchall())
        finally:
            con.close()
    except sqlite3.Error:
        return set()
    keys = set(rows.get(KNOWN_KEYS, "").split())
    for name in (SYNC_KEY, ANCHOR_KEY):
        if rows.get(name):
            try:
                keys.add(_public_of(rows[name]))
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
