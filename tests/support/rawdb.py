"""Raw DB-API connections to the suite's databases, encrypted (the default) or plain.

``connect`` takes what ``sqlite3.connect`` takes (a path, or a ``file:…?mode=ro`` URI with
``uri=True``); an encrypted file is keyed through ``core.dbkeys`` (the suite's service key),
a plain or a new file opens with plain sqlite3. ``Error``/``IntegrityError``/... catch both drivers.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher

from db import cipher

Error = (sqlite3.Error, sqlcipher.Error)
IntegrityError = (sqlite3.IntegrityError, sqlcipher.IntegrityError)
OperationalError = (sqlite3.OperationalError, sqlcipher.OperationalError)
DatabaseError = (sqlite3.DatabaseError, sqlcipher.DatabaseError)


def key_up(path: str | Path) -> None:
    """Remember the key of an encrypted file (from the suite's service key) for this process."""
    from core import dbkeys

    if cipher.is_encrypted(path) and cipher.key_of(path) is None:
        dbkeys.unlock(path)


def connect(target: str | Path, **kwargs: Any):
    readonly = False
    text = str(target)
    if kwargs.pop("uri", False) and text.startswith("file:"):
        text, _sep, query = text.removeprefix("file:").partition("?")
        readonly = "mode=ro" in query
    key_up(text)
    return cipher.connect(text, readonly=readonly, **kwargs)


def copy_db(source: str | Path, target: str | Path) -> Path:
    """Copy a database file with its key sidecar (an encrypted database's wraps), as ``shutil.copy``."""
    import shutil

    target = Path(target)
    if target.is_dir():
        target = target / Path(source).name
    shutil.copy(source, target)
    if cipher.keys_file(source).is_file():
        shutil.copy(cipher.keys_file(source), cipher.keys_file(target))
    return target


def row_type(conn: Any):
    """``sqlite3.Row`` for this connection's driver."""
    return sqlcipher.Row if isinstance(conn, sqlcipher.Connection) else sqlite3.Row
