"""Opening an encrypted database from the CLI, encrypting a plain one, and the station's recovery.

- ``open_as``: the CLI's ``--as NAME --password-file F``: the key unwrapped with the password,
  then the log-in as today (lockout, the password verifier);
- ``encrypt_database`` migrates a plain database crash-safely (the sidecar, a keyed copy beside
  the database, fsynced, then one rename over it: a kill -9 at any step leaves the plain or
  the encrypted database usable; ``YXJC_CRASH_AT`` names a step to die at, for the tests);
- ``recover`` reopens a laptop with the station's recovery key.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from sqlalchemy import select

from core import dbkeys, keywrap
from core.encryption import unlocked_by_password
from core.errors import InvalidInput
from db import cipher
from db.models import User

if TYPE_CHECKING:
    from core.context import AppContext

CRASH_ENV = "YXJC_CRASH_AT"


def crash_point(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os._exit(9)


def open_as(db, *, create: bool = False, login: tuple[str, str] | None = None, **kwargs) -> AppContext:
    """``AppContext.open`` for the CLI: with ``login`` the key is unwrapped with that password and,
    once the database has users who may log in, the context acts as that user (checked
    against their password verifier, with the log-in's lockout)."""
    from core.context import AppContext
    from core.users import has_log_in, log_in

    ctx = AppContext.open(db, create=create, login=login, **kwargs)
    if login is not None and has_log_in(ctx):
        try:
            log_in(ctx, *login)
        except BaseException:
            ctx.close()
            raise
    return ctx


def unlock_file(path: Path, login: tuple[str, str] | None = None) -> None:
    """Before working on a database file directly (a backup, a restore): its key, if it is encrypted."""
    if cipher.is_encrypted(path):
        dbkeys.unlock(path, login)


# --- migration of a plain database ---------------------------------------------------------------

def needs_encryption(ctx: AppContext) -> bool:
    """A plain laptop database (or a station set to encrypt): encrypted on the next log-in."""
    if ctx.encrypted_file is not None or ctx.engine.dialect.name != "sqlite" or not ctx.engine.url.database:
        return False
    return ctx.setting_or("sync.role", "") == "device" or ctx.setting_or("security.encrypt_database", "") == "1"


def encrypt_database(ctx: AppContext, login: tuple[str, str] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> None:
    """Encrypt the plain database of ``ctx`` in place and reopen ``ctx`` on it.

    ``login``: the logged-in user's name and password (their wrap is made); without one a
    service key file must be at hand, or nobody could open the result. Crash-safe: the
    sidecar, then an encrypted copy beside the database (fsynced), then one rename over it.
    """
    from core.sync.devices import recovery_public_of
    from db.engine import open_database

    if ctx.encrypted_file is not None:
        raise InvalidInput("数据库已经加密")
    if ctx.engine.dialect.name != "sqlite" or not ctx.engine.url.database:
        raise InvalidInput("只有 SQLite 数据库文件可以加密")
    service = dbkeys.service_key()
    if login is None and service is None:
        raise InvalidInput("加密数据库需要一位用户的姓名和密码（命令行：--as 姓名 --password-file 密码文件）")
    if login is not None and not _password_ok(ctx, *login):
        from core.users import WRONG_LOGIN, LoginFailed

        raise LoginFailed(WRONG_LOGIN)
    path = Path(ctx.engine.url.database).resolve()
    step = progress or (lambda _done, _total: None)
    step(0, 4)
    from core import anchors

    anchors.seal_if_pending(ctx.engine)
    ctx.engine.dispose()
    plain = cipher.connect(path, key=b"")
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        plain.close()
    key = os.urandom(32)
    sidecar = dbkeys.Sidecar(db_id=_new_id())
    if service is not None:
        sidecar.service = keywrap.wrap_with_key(key, service, aad=dbkeys.aad(sidecar.db_id, "service"))
    if login is not None:
        sidecar.users[login[0]] = keywrap.wrap_with_password(key, login[1],
                                                             aad=dbkeys.aad(sidecar.db_id, "user", login[0]))
    recovery = recovery_public_of(ctx)
    if recovery:
        sidecar.recovery = keywrap.seal_to(key, recovery, aad=dbkeys.aad(sidecar.db_id, "recovery"))
    dbkeys.write(path, sidecar)  # beside a plain file it is ignored: the header decides
    crash_point("keys-written")
    step(1, 4)
    temp = path.with_name(path.name + ".encrypting")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{temp}{suffix}").unlink(missing_ok=True)
    cipher.export_encrypted(path, temp, key)
    os.chmod(temp, 0o600)
    crash_point("exported")
    step(2, 4)
    for suffix in ("-wal", "-shm"):  # checkpointed and empty: never left beside the encrypted file
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    crash_point("wal-removed")
    os.replace(temp, path)
    cipher.fsync_dir(path.parent)
    crash_point("swapped")
    step(3, 4)
    cipher.remember(path, key)
    engine, sessions = open_database(path, create=False)
    from core import guards

    guards.install(sessions)
    ctx.engine, ctx.sessions = engine, sessions
    ctx.file_key, ctx.encrypted_file = dbkeys.file_key(key), path
    if login is not None:
        unlocked_by_password(path, *login)
    step(4, 4)


def _new_id() -> str:
    import uuid

    return str(uuid.uuid4())


def _password_ok(ctx: AppContext, name: str, password: str) -> bool:
    from core.users import check_password

    with ctx.sessions() as s:
        user = s.scalar(select(User).where(User.name == name.strip(), User.active.is_(True)))
        return user is not None and user.password_hash is not None and check_password(password, user.password_hash)


# --- recovery by the station -----------------------------------------------------------------------

def recover(laptop_db: Path, station: AppContext, *, user: tuple[str, str] | None = None) -> list[str]:
    """Open the laptop's database with the station's recovery key; with ``user`` = (name, new
    password) that user's password is set on the laptop and their wrap made. Returns the names
    whose wraps the laptop now holds. The station's admin (or the system) only."""
    from core.context import AppContext
    from core.sync.devices import recovery_private
    from core.users import require, set_password

    require(station, "manage_devices")
    laptop_db = Path(laptop_db)
    if not cipher.is_encrypted(laptop_db):
        raise InvalidInput(f"该数据库没有加密，无需恢复：{laptop_db}")
    dbkeys.open_recovery(laptop_db, recovery_private(station))
    laptop = AppContext.open(laptop_db, create=False)
    try:
        if user is not None:
            name, password = user
            with laptop.sessions() as s:
                found = s.scalar(select(User).where(User.name == name.strip(), User.active.is_(True)))
            if found is None:
                raise InvalidInput(f"笔记本上没有在用的用户“{name}”")
            set_password(laptop, found.id, password)
    finally:
        laptop.close()
    return dbkeys.user_names(laptop_db)
