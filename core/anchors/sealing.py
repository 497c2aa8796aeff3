"""Making anchors: one anchor, the keys that seal it, sealing in a transaction, the file beside the database, the peer's copy."""
from __future__ import annotations

import atexit
import json
import os
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, inspect as sa_inspect

from core import keystore
from core.signing import new_key_pair, public_of, sign, signature_hex_ok
from core.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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
        return signature_hex_ok(self.key, self.payload(), self.signature)

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
    return sign(private_hex, data).hex()


def _new_private() -> str:
    return new_key_pair()[0]


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
    found = _settings(connection, SYNC_KEY, ANCHOR_KEY, "device_id")
    if not found.get("device_id"):  # not yet opened by the app (a bare migrated copy): no key to use
        raise InvalidInput("数据库尚无设备标识，无法加盖审计锚点")
    for name in (SYNC_KEY, ANCHOR_KEY):
        if found.get(name):
            return _unsealed(found["device_id"], name, found[name])
    private = _new_private()
    _put_setting(connection, ANCHOR_KEY, keystore.seal(found["device_id"], ANCHOR_KEY, bytes.fromhex(private)))
    return private


def _unsealed(device_id: str, name: str, stored: str) -> str:
    """A private key as hex: sealed with the local key file (core.keystore), or a legacy clear one."""
    return keystore.unseal(device_id, name, stored).hex() if keystore.is_sealed(stored) else stored


def trusted_keys(connection) -> set[str]:
    """Public keys whose anchors this database accepts as its own: every key that sealed here."""
    found = _settings(connection, SYNC_KEY, ANCHOR_KEY, KNOWN_KEYS, "device_id")
    keys = set(found.get(KNOWN_KEYS, "").split())
    for name in (SYNC_KEY, ANCHOR_KEY):
        if found.get(name):
            try:
                keys.add(public_of(_unsealed(found.get("device_id", ""), name, found[name])))
            except (ValueError, InvalidInput):  # no key file here: the known public keys still count
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
    try:
        private = anchor_private_key(connection)
    except InvalidInput:  # the key file is not here (a copied database): never block the write itself
        return None
    public = public_of(private)
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


