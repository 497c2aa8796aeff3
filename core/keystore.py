"""Secrets at rest: private keys in the database are sealed with a key the file alone does not give.

Each database has a local wrapping key: 32 random bytes in a key file outside the database
(``<user data folder>/keys/<device id>.key``, mode 0600; ``YXJC_KEY_DIR`` points elsewhere, e.g.
a folder only the hub's service account may read). A copied database, backup or USB stick
without that file yields no private key. Sealing is AES-256-GCM with the setting's name and
the device id as associated data, so a sealed value cannot be moved to another setting or
another database. docs/keys.md has the whole key hierarchy.
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

from core.errors import InvalidInput

KEY_DIR_ENV = "YXJC_KEY_DIR"
SEALED_PREFIX = "aesgcm1$"
_KEY_BYTES = 32


def key_dir() -> Path:
    """Where the local wrapping keys live."""
    configured = os.environ.get(KEY_DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    from core.paths import user_data_dir

    return user_data_dir() / "keys"


def key_file(device_id: str) -> Path:
    return key_dir() / f"{device_id}.key"


def _create_key(path: Path) -> bytes:
    """A new random key, written 0600 whatever the umask; never overwrites an existing one."""
    key = os.urandom(_KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except FileExistsError:
        return _read_key(path)
    except OSError as exc:
        raise InvalidInput(f"无法创建本机的密钥文件 {path}：{exc.strerror or exc}") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key


def _read_key(path: Path) -> bytes:
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"本机的密钥文件 {path} 不存在（数据库可能是从别的电脑复制或从备份恢复的），"
                           "无法使用本机的同步密钥；请在所里重新登记本机") from None
    except OSError as exc:
        raise InvalidInput(f"无法读取本机的密钥文件 {path}：{exc.strerror or exc}") from exc
    if len(key) != _KEY_BYTES:
        raise InvalidInput(f"本机的密钥文件 {path} 已损坏")
    return key


def _aad(device_id: str, name: str) -> bytes:
    return f"{device_id}\n{name}".encode("utf-8")


def seal(device_id: str, name: str, secret: bytes) -> str:
    """``secret`` sealed for the setting ``name`` of the database of ``device_id`` (key file made if needed)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    path = key_file(device_id)
    key = _read_key(path) if path.exists() else _create_key(path)
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, secret, _aad(device_id, name))
    return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def unseal(device_id: str, name: str, stored: str) -> bytes:
    """The secret sealed by ``seal``; a wrong or missing key file gives one clear message."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not is_sealed(stored):
        raise InvalidInput("本机保存的密钥格式无效")
    key = _read_key(key_file(device_id))
    try:
        raw = base64.b64decode(stored.removeprefix(SEALED_PREFIX), validate=True)
        return AESGCM(key).decrypt(raw[:12], raw[12:], _aad(device_id, name))
    except (InvalidTag, ValueError) as exc:
        raise InvalidInput(f"本机的密钥文件 {key_file(device_id)} 与数据库不匹配，无法解开本机的同步密钥；"
                           "请在所里重新登记本机") from exc
