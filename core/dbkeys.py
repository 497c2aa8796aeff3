"""The database key and its wraps: the key sidecar ``<db>.keys`` beside an encrypted database.

Each encrypted database has one random 32-byte key (SQLCipher's raw key, ``db.cipher``).
It is never written unwrapped: the sidecar (JSON, 0600) holds it wrapped

- once per user who may log in here: ``keywrap.wrap_with_password`` (scrypt), the associated
  data binding the database id and the user's name;
- once for the station: ``keywrap.seal_to`` the station's X25519 recovery public key (the
  admin reopens a laptop whose users forgot their passwords, ``core.encryption.recover``);
- optionally with a service key file (``YXJC_SERVICE_KEY_FILE``: 32 random bytes a service
  account alone reads — the hub run as a service; the test suite);
- transitionally with a device key file in the local key folder (``core.keystore.key_dir``):
  a laptop just enrolled or a demo being built, before any user wrap exists. The first
  user's log-in removes it.

The sidecar is data from outside: its size, its fields and the number of wraps are bounded,
and a wrap that does not open is the same answer as a wrong password. docs/keys.md.
"""
from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core import keywrap
from core.errors import InvalidInput, database_message
from core.lockout import LOCK_MINUTES, MAX_FAILURES, WRONG_LOGIN, LoginFailed, locked_message
from db import cipher
from db.engine import DatabaseProblem

FORMAT = "yxjc-database-keys"
SERVICE_KEY_ENV = "YXJC_SERVICE_KEY_FILE"
MAX_SIDECAR_BYTES = 256 * 1024
MAX_USERS = 500
MAX_NAME = 200
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FILE_KEY_INFO = b"yxjc attachments v1"

# failed unlocks before the database is open, counted in this process (name → (failures, until))
_failures: dict[str, tuple[int, datetime | None]] = {}


class KeyRequired(InvalidInput):
    """An encrypted database and nothing at hand that opens it."""


@dataclass
class Sidecar:
    db_id: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    recovery: dict[str, Any] | None = None
    service: dict[str, Any] | None = None
    device: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": 1, "db_id": self.db_id, "users": self.users,
                "recovery": self.recovery, "service": self.service, "device": self.device}


def aad(db_id: str, kind: str, name: str = "") -> bytes:
    return f"yxjc database key\n{db_id}\n{kind}\n{name}".encode("utf-8")


def file_key(db_key: bytes) -> bytes:
    """The attachments' key (``AppContext.file_key``): HKDF-SHA256 of the database key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), 32, salt=None, info=FILE_KEY_INFO).derive(db_key)


# --- the sidecar file ---------------------------------------------------------------------------

def _damaged(path: Path) -> InvalidInput:
    return InvalidInput(f"数据库的密钥文件已损坏或不是本软件的文件，无法打开数据库：{path}")


def read(db: str | Path) -> Sidecar:
    """The sidecar of ``db``, validated (bounded size, fields, wrap count)."""
    path = cipher.keys_file(db)
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            raise _damaged(path)
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"加密数据库的密钥文件不存在，无法打开（请从备份恢复，或由所里用恢复密钥重新打开）：{path}") from None
    except (OSError, ValueError) as exc:
        raise _damaged(path) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != 1:
        raise _damaged(path)
    db_id, users = data.get("db_id"), data.get("users")
    if not isinstance(db_id, str) or not _UUID.match(db_id) or not isinstance(users, dict) or len(users) > MAX_USERS:
        raise _damaged(path)
    if any(not isinstance(k, str) or not k or len(k) > MAX_NAME or not isinstance(v, dict) for k, v in users.items()):
        raise _damaged(path)
    optional = {k: data.get(k) for k in ("recovery", "service", "device")}
    if any(v is not None and not isinstance(v, dict) for v in optional.values()):
        raise _damaged(path)
    return Sidecar(db_id, dict(users), **optional)


def write(db: str | Path, sidecar: Sidecar) -> None:
    """Replace the sidecar atomically (a temp file, fsync, rename), 0600."""
    path = cipher.keys_file(db)
    temp = path.with_name(path.name + ".part")
    data = json.dumps(sidecar.as_json(), ensure_ascii=False, indent=1).encode("utf-8")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), 0o600)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
        cipher.fsync_dir(path.parent)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InvalidInput(f"无法写入数据库的密钥文件 {path}：{exc.strerror or exc}") from exc


# --- keys at hand --------------------------------------------------------------------------------

def service_key() -> bytes | None:
    """The service key file named by ``YXJC_SERVICE_KEY_FILE`` (32 bytes, or 64 hex digits), if any."""
    name = os.environ.get(SERVICE_KEY_ENV, "").strip()
    if not name:
        return None
    try:
        raw = Path(name).read_bytes()[:200]
    except OSError as exc:
        raise InvalidInput(f"无法读取服务密钥文件 {name}（环境变量 {SERVICE_KEY_ENV}）：{exc.strerror or exc}") from exc
    if len(raw) == 32:
        return raw
    try:
        key = bytes.fromhex(raw.decode("ascii").strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise InvalidInput(f"服务密钥文件 {name} 无效（应为 32 字节或 64 位十六进制）")
    return key


def _device_key_file(db_id: str) -> Path:
    from core.keystore import key_dir

    return key_dir() / f"{db_id}.dbkey"


def _new_device_key(db_id: str) -> bytes:
    path = _device_key_file(db_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key


def create(db: str | Path, *, recovery_public: str | None = None) -> bytes:
    """A new database key for the (new) file ``db``, remembered for it; its sidecar written.

    Wrapped with the service key if one is at hand; otherwise with a device key file until the
    first user wrap (``set_user``) replaces it, so the key is never only in memory.
    """
    try:
        Path(db).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(database_message(DatabaseProblem("cannot_open", str(db), exc.strerror or ""))) from exc
    key = os.urandom(32)
    sidecar = Sidecar(str(uuid.uuid4()))
    service = service_key()
    if service is not None:
        sidecar.service = keywrap.wrap_with_key(key, service, aad=aad(sidecar.db_id, "service"))
    else:
        sidecar.device = keywrap.wrap_with_key(key, _new_device_key(sidecar.db_id), aad=aad(sidecar.db_id, "device"))
    if recovery_public:
        sidecar.recovery = keywrap.seal_to(key, recovery_public, aad=aad(sidecar.db_id, "recovery"))
    write(db, sidecar)
    cipher.remember(db, key)
    return key


def _locked(name: str, now: datetime) -> None:
    _count, until = _failures.get(name, (0, None))
    if until is not None and until > now:
        raise LoginFailed(locked_message(until, now))


def _failed(name: str, now: datetime) -> None:
    count = _failures.get(name, (0, None))[0] + 1
    if count >= MAX_FAILURES:
        _failures[name] = (0, now + timedelta(minutes=LOCK_MINUTES))
        raise LoginFailed(f"连续输错密码 {MAX_FAILURES} 次，账户锁定 {LOCK_MINUTES} 分钟")
    _failures[name] = (count, None)
    raise LoginFailed(WRONG_LOGIN)


_DECOY = None


def _decoy() -> dict[str, Any]:
    """A wrap no password opens, tried for an unknown name so that it costs what a known one does."""
    global _DECOY
    if _DECOY is None:
        _DECOY = keywrap.wrap_with_password(os.urandom(32), os.urandom(16).hex(), aad=b"decoy")
    return _DECOY


def unlock(db: str | Path, login: tuple[str, str] | None = None) -> bytes:
    """The key of the encrypted ``db``, remembered for it: already known, the service key file,
    the device key file, or the user's password (``login`` = (name, password)) — in that order.

    A wrong password and an unknown name give the same answer after the same scrypt, and
    lock the name out after five tries (in this process). Nothing at hand: ``KeyRequired``.
    """
    known = cipher.key_of(db)
    if known is not None:
        return known
    sidecar = read(db)
    key = None
    if sidecar.service is not None:
        service = service_key()
        if service is not None:
            key = _try(lambda: keywrap.unwrap_with_key(sidecar.service, service, aad=aad(sidecar.db_id, "service")))
    if key is None and sidecar.device is not None and _device_key_file(sidecar.db_id).is_file():
        device = _device_key_file(sidecar.db_id).read_bytes()[:64]
        key = _try(lambda: keywrap.unwrap_with_key(sidecar.device, device, aad=aad(sidecar.db_id, "device")))
    if key is None and login is not None:  # the key at hand above: the password is checked at log-in
        key = unlock_with_password(db, sidecar, *login)
    if key is None:
        raise KeyRequired(database_message(DatabaseProblem("key_needed", str(db))))
    cipher.remember(db, key)
    return key


def _try(fn) -> bytes | None:
    try:
        key = fn()
    except keywrap.WrapError:
        return None
    return key if len(key) == 32 else None


def unlock_with_password(db: str | Path, sidecar: Sidecar, name: str, password: str) -> bytes:
    now = datetime.now()
    name = name.strip()
    _locked(name, now)
    wrapped = sidecar.users.get(name)
    key = _try(lambda: keywrap.unwrap_with_password(wrapped or _decoy(), password, aad=aad(sidecar.db_id, "user", name)))
    if key is None or wrapped is None:
        _failed(name, now)
    _failures.pop(name, None)
    return key


def opens_for(db: str | Path, name: str, password: str) -> bool:
    """Whether ``name``'s wrap exists and opens with ``password`` (one scrypt)."""
    sidecar = read(db)
    wrapped = sidecar.users.get(name)
    if wrapped is None:
        return False
    return _try(lambda: keywrap.unwrap_with_password(wrapped, password, aad=aad(sidecar.db_id, "user", name))) is not None


# --- changing the wraps (the key must be unlocked: remembered for ``db``) -------------------------

def _key(db: str | Path) -> bytes:
    key = cipher.key_of(db)
    if key is None:
        raise InvalidInput("数据库尚未解锁")
    return key


def set_user(db: str | Path, name: str, password: str) -> None:
    """Wrap the key for ``name`` with ``password`` (new or replacing theirs); the device wrap goes."""
    key, sidecar = _key(db), read(db)
    if name not in sidecar.users and len(sidecar.users) >= MAX_USERS:
        raise InvalidInput("本机可登录的用户过多")
    sidecar.users[name] = keywrap.wrap_with_password(key, password, aad=aad(sidecar.db_id, "user", name))
    if sidecar.device is not None:
        sidecar.device = None
        _device_key_file(sidecar.db_id).unlink(missing_ok=True)
    write(db, sidecar)


def keep_users(db: str | Path, names: set[str]) -> list[str]:
    """Remove the wraps of every user not in ``names`` (revoked, deactivated, gone); returns who lost one."""
    sidecar = read(db)
    gone = sorted(n for n in sidecar.users if n not in names)
    if gone:
        for n in gone:
            del sidecar.users[n]
        write(db, sidecar)
    return gone


def set_recovery(db: str | Path, recovery_public: str) -> None:
    key, sidecar = _key(db), read(db)
    sidecar.recovery = keywrap.seal_to(key, recovery_public, aad=aad(sidecar.db_id, "recovery"))
    write(db, sidecar)


def open_recovery(db: str | Path, recovery_private: str) -> bytes:
    """The key from the station's recovery wrap (``recovery_private``: the station's X25519 key, hex)."""
    sidecar = read(db)
    if sidecar.recovery is None:
        raise InvalidInput(f"该数据库没有所里的恢复密钥封装（登记前建立或旧版本登记），无法恢复：{db}")
    key = _try(lambda: keywrap.open_sealed(sidecar.recovery, recovery_private, aad=aad(sidecar.db_id, "recovery")))
    if key is None:
        raise InvalidInput("所里的恢复密钥打不开这台笔记本的数据库（不是本所登记的笔记本，或密钥文件被改动）")
    cipher.remember(db, key)
    return key


def user_names(db: str | Path) -> list[str]:
    return sorted(read(db).users)


def unlock_at_hand(db: str | Path) -> None:
    """Working on an encrypted file directly (a backup, a restore, an anchor check): its key from
    what is at hand (a remembered key, the service or device key file), else one clear line."""
    if cipher.is_encrypted(db) and cipher.key_of(db) is None:
        unlock(db)


def copy_for_backup(db: str | Path, target: str | Path) -> None:
    """The sidecar of a backup of ``db``: the user and recovery wraps (and a service wrap) — never
    the device wrap, whose key file lies on the same disk."""
    sidecar = read(db)
    sidecar.device = None
    write(target, sidecar)


def adopt_backup_key(backup: Path, db_file: Path) -> None:
    """Let ``backup`` open with ``db_file``'s key when it is a backup of that database (the same
    database id in both sidecars) and has no key of its own yet. Anything else: nothing."""
    key = cipher.key_of(db_file)
    if key is None or not cipher.is_encrypted(backup) or cipher.key_of(backup) is not None:
        return
    try:
        if read(backup).db_id == read(db_file).db_id:
            cipher.remember(backup, key)
    except InvalidInput:
        pass
