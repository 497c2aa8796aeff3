"""Whether opening a database will migrate it: the GUI's first start after an upgrade shows
a progress dialog for it (``gui/startup.py``); the migration itself is ``db.engine.upgrade``.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from db.engine import HEAD, MIGRATIONS_DIR, database_url, known_revisions, sqlite_file


def stored_revision(db: str | Path) -> str | None:
    """The schema revision of an existing SQLite database file, read-only; None: none to read
    (no file, an empty one, not readable as plain SQLite, or a server database)."""
    path = sqlite_file(database_url(db))
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return row[0] if row else None


def pending_upgrades(db: str | Path) -> list[str]:
    """The migrations opening ``db`` will apply to its existing data, oldest first; [] when it is
    at the newest schema, new (nothing to keep: creating it is quick) or not ours (opening refuses it)."""
    revision = stored_revision(db)
    if revision is None or revision == HEAD or revision not in known_revisions():
        return []
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return [r.revision for r in reversed(list(script.iterate_revisions(HEAD, revision))) if r.revision != revision]


def back_up_before_upgrade(db: str | Path) -> Path | None:
    """A backup of the database as it is before its migrations (``core.backup``: 恢复备份 puts
    it back, e.g. for the older program); None for a server database."""
    from core.backup import make_backup

    path = sqlite_file(database_url(db))
    return make_backup(path) if path is not None else None
