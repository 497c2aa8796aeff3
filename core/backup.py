"""Rolling automatic backups of the SQLite database, and restoring one.

A backup is a consistent copy made with SQLite's online backup API (safe while the
app runs, WAL included), kept in ``<db>-backups/``; the newest ``KEEP`` are kept. The
attachment files go with it, incrementally, into ``<db>-backups/attachments/``
(``core.backup_files``), and a restore puts back the ones missing. Backups
and their folder are readable by their owner only (0600 / 0700). The audit head is sealed
just before the copy, so every backup holds an anchor of its own chain (``core.anchors``).

A restore checks the backup first — SQLite's integrity check, a database of this app
(its schema version and core tables), a schema no newer than the app — on a private copy,
brings that copy to the current schema, and only then puts it in place (sealing a
"restore" anchor); otherwise the current database is left untouched.
"""
from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core import anchors, dbkeys
from core.backup_files import back_up_files, restore_files
from core.errors import InvalidInput, database_message
from core.users import require_user
from db import cipher
from db.engine import (
    SQLITE_HEADER, DatabaseProblem, check_file, create_private_file, known_revisions, open_database,
    storage_problem,
)

KEEP = 7
# tables every database of this app has had since its first schema
CORE_TABLES = ("subjects", "inspections", "item_results", "settings")


def backup_dir(db_file: Path) -> Path:
    return db_file.parent / f"{db_file.stem}-backups"


def make_backup(db_file: Path, *, now: datetime | None = None, keep: int = KEEP) -> Path:
    """Copy the database to a timestamped file and prune the oldest beyond ``keep``.

    A missing database, a folder, a file that is not SQLite or a newer schema is refused.
    """
    db_file = Path(db_file)
    _check_source(db_file)
    folder = backup_dir(db_file)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    target = folder / f"{db_file.stem}-{stamp}.db"
    serial = 1
    while target.exists():  # two in the same second (a restore right after a backup): keep both
        serial += 1
        target = folder / f"{db_file.stem}-{stamp}-{serial}.db"
    temp = target.with_suffix(".part")
    anchors.seal_database_file(db_file)  # the copy holds an anchor of its own head
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _copy_database(db_file, temp)
        if cipher.key_for_connection(db_file) is not None:  # encrypted: the wraps that reopen it go with it
            dbkeys.copy_for_backup(db_file, target)
            cipher.remember(target, cipher.key_of(db_file))
        temp.replace(target)
    except (OSError, *cipher.ERRORS) as exc:
        _remove(temp)
        raise InvalidInput(f"备份失败：{_failure(exc)}") from exc
    try:
        back_up_files(db_file, folder)  # the photos and signature images, incrementally
    except InvalidInput as exc:
        raise InvalidInput(f"数据库已备份，但附件未能全部备份：{exc.message}") from exc
    for old in list_backups(db_file)[keep:]:
        old.unlink(missing_ok=True)
        cipher.keys_file(old).unlink(missing_ok=True)
    return target


def _check_source(db_file: Path) -> None:
    try:
        dbkeys.unlock_at_hand(db_file)
        check_file(db_file, create=False)
    except DatabaseProblem as problem:
        raise InvalidInput(database_message(problem)) from problem
    try:
        conn = cipher.connect(db_file, readonly=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            has_version = "alembic_version" in tables
            versions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")] if has_version else []
        finally:
            conn.close()
    except cipher.ERRORS as exc:
        raise InvalidInput(f"备份失败：{_failure(exc)}") from exc
    if not has_version:
        kind = "empty" if db_file.stat().st_size == 0 or not tables else "foreign"
        raise InvalidInput(database_message(DatabaseProblem(kind, str(db_file))))
    newer = [v for v in versions if v not in known_revisions()]
    if newer:
        raise InvalidInput(database_message(DatabaseProblem("newer", str(db_file), newer[0])))


def list_backups(db_file: Path) -> list[Path]:
    """Backups of this database, newest first."""
    folder = backup_dir(Path(db_file))
    if not folder.is_dir():
        return []
    stem = Path(db_file).stem

    def age(path: Path) -> tuple[str, int]:
        """<stem>-YYYYmmdd-HHMMSS[-n].db: by time, then by n."""
        parts = path.stem.removeprefix(f"{stem}-").split("-")
        return "-".join(parts[:2]), int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 1

    return sorted(folder.glob(f"{stem}-*.db"), key=age, reverse=True)


def check_backup(backup: Path) -> str:
    """Refuse (``InvalidInput``) anything but an intact database of this app; returns its revision."""
    backup = Path(backup)
    name = backup.name
    if not backup.is_file():
        raise InvalidInput(f"找不到备份文件 {backup}")
    with open(backup, "rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER and not cipher.is_encrypted(backup):
            raise InvalidInput(f"备份文件 {name} 不是本软件的数据库备份，未恢复")
    if cipher.is_encrypted(backup) and cipher.key_of(backup) is None:
        dbkeys.unlock(backup)  # a key at hand, or one clear line on what it needs
    try:
        conn = cipher.connect(backup, readonly=True)
        try:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise InvalidInput(f"备份文件 {name} 已损坏，未恢复")
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            versions = ([row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
                        if "alembic_version" in tables else [])
        finally:
            conn.close()
    except cipher.ERRORS as exc:
        raise InvalidInput(f"备份文件 {name} 已损坏或无法读取，未恢复") from exc
    if len(versions) != 1 or any(t not in tables for t in CORE_TABLES):
        raise InvalidInput(f"备份文件 {name} 不是本软件的数据库备份，未恢复")
    if versions[0] not in known_revisions():
        raise InvalidInput(f"备份文件 {name} 由更新版本的软件创建（结构版本 {versions[0]}），请先升级本软件，未恢复")
    return versions[0]


def restore_backup(backup: Path, db_file: Path, *, user: Any = None) -> Path:
    """Put a backup in place of the database; the current one is kept as a backup first.

    ``user``: who asks (``core.users.UserRow``; None: the system). An admin's action
    (permission "restore"). A backup that is not an intact database of this app, or is
    of a newer schema, is refused and the current database is left as it was.
    """
    require_user(user, "restore")
    backup, db_file = Path(backup), Path(db_file)
    try:
        check_file(db_file, create=True)
    except DatabaseProblem as problem:
        if problem.kind == "directory":
            raise InvalidInput(f"数据库路径是一个文件夹，不是数据库文件：{db_file}") from problem
    if db_file.exists():
        dbkeys.unlock_at_hand(db_file)
    dbkeys.adopt_backup_key(backup, db_file)
    check_backup(backup)
    staged = db_file.parent / f".{db_file.name}.restore.part"
    _remove(staged)
    cipher.keys_file(staged).unlink(missing_ok=True)
    encrypted = cipher.key_for_connection(backup) is not None
    if encrypted:
        dbkeys.copy_for_backup(backup, staged)
        cipher.remember(staged, cipher.key_of(backup))
    try:
        try:
            _copy_database(backup, staged)
        except (OSError, *cipher.ERRORS) as exc:
            raise InvalidInput(f"无法读取备份文件 {backup.name}（{_failure(exc)}），未恢复") from exc
        check_backup(staged)  # what is put in place is this private copy, checked again
        try:
            engine, _sessions = open_database(staged, create=False)  # the current schema, atomically
            engine.dispose()
        except DatabaseProblem as problem:
            raise InvalidInput(f"备份文件 {backup.name} 无法升级到本软件的数据库结构，未恢复") from problem
        try:
            previous_keys = anchors.known_keys_of(db_file) if db_file.exists() else set()
        except (OSError, *cipher.ERRORS):  # a damaged current database: nothing of it to trust
            previous_keys = set()
        readable = True
        if db_file.exists():
            try:
                make_backup(db_file, now=datetime.now(), keep=KEEP + 1)
            except InvalidInput:  # the current file is damaged: keep its bytes aside, then replace it
                _keep_damaged(db_file)
                readable = False
        # into a database of the same kind (both plain, or both encrypted: re-keyed with the
        # current database's key), through SQLite's locks; else the file (and its wraps) replaced
        same_kind = db_file.exists() and (cipher.key_for_connection(db_file) is not None) == encrypted
        if encrypted and not same_kind and db_file.exists() and not cipher.is_plain(db_file):
            readable = False
        try:
            if readable and (same_kind or not encrypted):
                _copy_database(staged, db_file)  # through SQLite's locks: safe if the app has it open
            else:
                if encrypted:
                    dbkeys.copy_for_backup(staged, db_file)
                    cipher.remember(db_file, cipher.key_of(staged))
                for suffix in ("-wal", "-shm", "-journal"):
                    Path(f"{db_file}{suffix}").unlink(missing_ok=True)
                os.replace(staged, db_file)
        except (OSError, *cipher.ERRORS) as exc:
            raise InvalidInput(f"恢复失败（{_failure(exc)}），数据库未作更改") from exc
        anchors.note_restore(db_file, previous_keys)  # older anchors beyond the backup's head no longer apply
        try:
            # attachment files missing here (photos, signature images), under the key the restored
            # database now has: the current one's when the rows were re-keyed into it
            restore_files(backup, db_file, source_key=_file_key(backup), target_key=_file_key(db_file))
        except InvalidInput as exc:
            raise InvalidInput(f"数据库已恢复，但附件未能全部恢复：{exc.message}；可再次恢复") from exc
    finally:
        _remove(staged)
        cipher.keys_file(staged).unlink(missing_ok=True)
    return db_file


def _file_key(db_file: Path) -> bytes | None:
    key = cipher.key_of(db_file)
    return None if key is None else dbkeys.file_key(key)


def _copy_database(source_file: Path, target_file: Path) -> None:
    """A consistent copy through SQLite's online backup API (safe while the app writes).

    The copy replaces the target in one transaction; a new target is created 0600.
    """
    key = cipher.key_for_connection(source_file)
    if not Path(target_file).exists():
        create_private_file(Path(target_file))
    if key is not None and cipher.key_of(target_file) is None and cipher.header(target_file) == b"":
        cipher.remember(target_file, key)  # a new copy of an encrypted database: encrypted too
    target_key = cipher.key_for_connection(target_file)
    if key is None and target_key is not None:  # a plain backup into an encrypted database: encrypt it first
        keyed = Path(target_file).with_name(Path(target_file).name + ".keyed")
        _remove(keyed)
        try:
            cipher.export_encrypted(source_file, keyed, target_key)
            cipher.remember(keyed, target_key)
            _copy_database(keyed, target_file)
        finally:
            _remove(keyed)
            cipher.forget(keyed)
        return
    source = cipher.connect(source_file)
    try:
        target = cipher.connect(target_file)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _keep_damaged(db_file: Path) -> Path:
    """A byte copy of a database SQLite cannot back up, beside the backups (0600)."""
    folder = backup_dir(db_file)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / f"{db_file.stem}-{datetime.now():%Y%m%d-%H%M%S}.damaged"
    try:
        create_private_file(target)
        shutil.copyfile(db_file, target)
    except OSError as exc:
        raise InvalidInput(f"无法保存当前数据库的副本（{_failure(exc)}），未恢复") from exc
    return target


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _failure(exc: BaseException) -> str:
    """A short Chinese reason for a failed copy."""
    kind = storage_problem(exc)
    if kind == "disk_full" or (isinstance(exc, OSError) and exc.errno == 28):
        return "磁盘空间不足"
    if kind in ("corrupt", "not_sqlite"):
        return "数据库文件已损坏"
    if kind == "busy":
        return "数据库正被另一个程序占用"
    if isinstance(exc, OSError):
        return f"文件无法写入：{exc.strerror or exc}"
    return "数据库无法读取"


def backup_if_due(db_file: Path, *, every: timedelta = timedelta(days=1)) -> Path | None:
    """At start-up (on a worker thread): a new backup unless the newest is younger than ``every``."""
    db_file = Path(db_file)
    if not db_file.exists():
        return None
    newest = list_backups(db_file)
    if newest and datetime.now().timestamp() - newest[0].stat().st_mtime < every.total_seconds():
        return None
    return make_backup(db_file)

