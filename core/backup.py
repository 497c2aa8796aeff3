"""Rolling automatic backups of the SQLite database, and restoring one.

A backup is a consistent copy made with SQLite's online backup API (safe while the
app runs, WAL included), kept in ``<db>-backups/``; the newest ``KEEP`` are kept. The
audit head is sealed just before the copy, so every backup holds an anchor of its own
chain (``core.anchors``); a restore seals a "restore" anchor.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from core import anchors
from core.errors import InvalidInput

KEEP = 7


def backup_dir(db_file: Path) -> Path:
    return db_file.parent / f"{db_file.stem}-backups"


def make_backup(db_file: Path, *, now: datetime | None = None, keep: int = KEEP) -> Path:
    """Copy the database to a timestamped file and prune the oldest beyond ``keep``."""
    db_file = Path(db_file)
    folder = backup_dir(db_file)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    target = folder / f"{db_file.stem}-{stamp}.db"
    temp = target.with_suffix(".part")
    anchors.seal_database_file(db_file)  # the copy holds an anchor of its own head
    try:
        _copy_database(db_file, temp)
        temp.replace(target)
    except (OSError, sqlite3.Error) as exc:
        temp.unlink(missing_ok=True)
        raise InvalidInput(f"备份失败：{exc}") from exc
    for old in list_backups(db_file)[keep:]:
        old.unlink(missing_ok=True)
    return target


def list_backups(db_file: Path) -> list[Path]:
    """Backups of this database, newest first."""
    folder = backup_dir(Path(db_file))
    return sorted(folder.glob(f"{Path(db_file).stem}-*.db"), reverse=True) if folder.is_dir() else []


def restore_backup(backup: Path, db_file: Path) -> Path:
    """Put a backup in place of the database; the current one is kept as a backup first."""
    backup, db_file = Path(backup), Path(db_file)
    try:
        check = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()
    except sqlite3.Error as exc:
        raise InvalidInput(f"备份文件 {backup.name} 无法读取：{exc}") from exc
    if not ok:
        raise InvalidInput(f"备份文件 {backup.name} 已损坏，未恢复")
    previous_keys = anchors.known_keys_of(db_file) if db_file.exists() else set()
    if db_file.exists():
        make_backup(db_file, now=datetime.now(), keep=KEEP + 1)
    _copy_database(backup, db_file)
    anchors.note_restore(db_file, previous_keys)  # older anchors beyond the backup's head no longer apply
    return db_file


def _copy_database(source_file: Path, target_file: Path) -> None:
    """A consistent copy through SQLite's online backup API (safe while the app writes)."""
    source = sqlite3.connect(source_file)
    target = sqlite3.connect(target_file)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def backup_if_due(db_file: Path, *, every: timedelta = timedelta(days=1)) -> Path | None:
    """At start-up (on a worker thread): a new backup unless the newest is younger than ``every``."""
    db_file = Path(db_file)
    if not db_file.exists():
        return None
    newest = list_backups(db_file)
    if newest and datetime.now().timestamp() - newest[0].stat().st_mtime < every.total_seconds():
        return None
    return make_backup(db_file)
