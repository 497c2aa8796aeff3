"""The database encrypted at rest: opening, the wraps kept in step with the users, migration, recovery.

``AppContext.open`` asks ``key_before_open`` for the key of an encrypted file (``core.dbkeys``
unwraps it) or makes one for a new file that should be encrypted. After that:

- a user's wrap is made at their successful log-in while the database is unlocked (the only
  moment the laptop holds both the key and that user's password, checked against the synced
  password verifier); a password change rewraps; a deactivated, revoked or removed user's
  wrap is dropped when the database is next opened or when the change is made here;
opening for the CLI, the migration of a plain database and the station's recovery are in
``core.unlock``. docs/keys.md and docs/security.md.
"""
from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from core import dbkeys
from db import cipher
from db.models import User

if TYPE_CHECKING:
    from core.context import AppContext

# (database, name, digest of the password under the key): wraps already checked in this process
_checked: set[tuple[str, str, bytes]] = set()


def key_before_open(path: Path | None, *, create: bool, login: tuple[str, str] | None,
                    encrypt: bool | None) -> tuple[bytes | None, bool]:
    """(the key the file needs or None for a plain one, whether a new key was made for it)."""
    if path is None:
        return None, False
    if cipher.is_encrypted(path):
        return dbkeys.unlock(path, login), False
    new = not path.exists() or (path.is_file() and path.stat().st_size == 0)
    if create and new and (encrypt or (encrypt is None and dbkeys.service_key() is not None)):
        return dbkeys.create(path), True
    return None, False


def undo_new_key(path: Path | None, made: bool) -> None:
    """A new database that could not be set up: its sidecar goes with it."""
    if made and path is not None and not path.exists():
        cipher.keys_file(path).unlink(missing_ok=True)
        cipher.forget(path)


def _users_here(ctx: AppContext) -> set[str]:
    with ctx.sessions() as s:
        return set(s.scalars(select(User.name).where(User.active.is_(True), User.password_hash.is_not(None))))


def after_open(ctx: AppContext) -> None:
    """Drop the wraps of users who may no longer log in here (once there are users at all)."""
    if ctx.encrypted_file is None:
        return
    names = _users_here(ctx)
    if names:
        dbkeys.keep_users(ctx.encrypted_file, names)


def _mark(db: Path, name: str, password: str) -> tuple[str, str, bytes]:
    key = cipher.key_of(db) or b""
    return str(db), name, hmac.new(key, password.encode("utf-8"), hashlib.sha256).digest()


def after_log_in(ctx: AppContext, name: str, password: str) -> None:
    """A successful log-in on an encrypted database: make (or renew) this user's wrap."""
    db = ctx.encrypted_file
    if db is None:
        return
    mark = _mark(db, name, password)
    if mark in _checked:
        return
    if not dbkeys.opens_for(db, name, password):
        dbkeys.set_user(db, name, password)
    _checked.add(mark)


def after_password(ctx: AppContext, name: str, password: str) -> None:
    """A new password set here: the user's wrap is made again under it (no re-encryption)."""
    db = ctx.encrypted_file
    if db is None:
        return
    dbkeys.set_user(db, name, password)
    _checked.add(_mark(db, name, password))


def after_users_changed(ctx: AppContext) -> None:
    after_open(ctx)


def unlocked_by_password(path: Path, name: str, password: str) -> None:
    """The GUI's or the CLI's log-in opened the key with this password: no need to check it again."""
    _checked.add(_mark(path, name, password))
