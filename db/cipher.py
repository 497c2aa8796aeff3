"""SQLCipher: the database file encrypted at rest with a raw 32-byte key.

A database is encrypted when its file does not start with SQLite's plain header and a
key sidecar (``<db>.keys``, ``core.dbkeys``) lies beside it. This module knows nothing of
wraps or passwords: ``core.dbkeys`` unwraps the key and ``remember``s it for the file, and
every connection this process opens to that file (the app's engine, Alembic's migration
connection, backups, the anchor checks) is keyed from here. The key is held in memory
only; it is given to SQLCipher as a raw key (``PRAGMA key = "x'…'"``), so no connection
pays SQLCipher's own key derivation. ``cipher_log_level`` is set to NONE before the key,
so a wrong key gives SQLite's "file is not a database" and nothing on stderr.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher

SQLITE_HEADER = b"SQLite format 3\x00"
KEYS_SUFFIX = ".keys"
KEY_BYTES = 32
# both drivers' errors: code that catches "an SQLite error" catches these
ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, sqlcipher.Error)

_keys: dict[str, bytes] = {}


def _name(path: str | Path) -> str:
    return str(Path(path).expanduser().resolve())


def keys_file(path: str | Path) -> Path:
    """The key sidecar of a database file."""
    return Path(f"{path}{KEYS_SUFFIX}")


def remember(path: str | Path, key: bytes) -> None:
    """Connections this process opens to ``path`` use ``key`` from now on (in memory only)."""
    if len(key) != KEY_BYTES:
        raise ValueError("a database key is 32 bytes")
    _keys[_name(path)] = bytes(key)


def forget(path: str | Path) -> None:
    _keys.pop(_name(path), None)


def key_of(path: str | Path) -> bytes | None:
    """The key remembered for ``path`` (None: none, or the file is plain)."""
    return _keys.get(_name(path))


def header(path: str | Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_HEADER))
    except OSError:
        return b""


def is_plain(path: str | Path) -> bool:
    """A plain SQLite file (or an empty one, which SQLite takes for an empty plain database)."""
    return header(path) in (SQLITE_HEADER, b"")


def is_encrypted(path: str | Path) -> bool:
    """An existing, non-empty file that is not plain SQLite and has a key sidecar."""
    p = Path(path)
    return p.is_file() and p.stat().st_size > 0 and not is_plain(p) and keys_file(p).is_file()


def key_for_connection(path: str | Path) -> bytes | None:
    """The key a connection to ``path`` needs now: a remembered key, unless the file is plain SQLite.

    A missing or empty file with a remembered key is a new encrypted database.
    """
    key = key_of(path)
    if key is None:
        return None
    p = Path(path)
    if p.is_file() and p.stat().st_size > 0 and header(p) == SQLITE_HEADER:
        return None
    return key


def apply_key(conn: Any, key: bytes) -> None:
    """Key a fresh SQLCipher connection (quietly: a wrong key prints nothing)."""
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")


def connect(path: str | Path, *, key: bytes | None = None, readonly: bool = False, **kwargs: Any):
    """A DB-API connection to ``path``: SQLCipher keyed when the file needs a key, else plain sqlite3.

    ``key`` overrides the remembered one (``b""``: force plain). ``readonly`` opens it
    ``mode=ro`` (nothing created).
    """
    use = key_for_connection(path) if key is None else (key or None)
    target: str = str(path)
    if readonly:
        target, kwargs = f"{Path(path).resolve().as_uri()}?mode=ro", {**kwargs, "uri": True}
    if use is None:
        return sqlite3.connect(target, **kwargs)
    conn = sqlcipher.connect(target, **kwargs)
    try:
        apply_key(conn, use)
    except BaseException:
        conn.close()
        raise
    return conn


def export_encrypted(source: str | Path, target: str | Path, key: bytes, *, source_key: bytes | None = None) -> None:
    """Copy the database ``source`` into a new file ``target`` encrypted with ``key`` (sqlcipher_export).

    ``source_key``: the source's own key (None: a plain source). The target is fsynced.
    """
    conn = sqlcipher.connect(str(source))
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        if source_key:
            conn.execute(f"PRAGMA key = \"x'{source_key.hex()}'\"")
        conn.execute("PRAGMA busy_timeout=5000")
        quoted = str(target).replace("'", "''")
        conn.execute(f"ATTACH DATABASE '{quoted}' AS enc KEY \"x'{key.hex()}'\"")
        conn.execute("SELECT sqlcipher_export('enc')")
        version = conn.execute("PRAGMA main.user_version").fetchone()[0]
        conn.execute(f"PRAGMA enc.user_version = {int(version)}")
        conn.execute("DETACH DATABASE enc")
    finally:
        conn.close()
    fsync_file(Path(target))


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
