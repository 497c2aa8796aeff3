"""Digests that say "nothing changed": every table of an SQLite database, every file of a folder."""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import hashlib
import sqlite3
from pathlib import Path


def database_digest(db_path: str | Path, *, skip: tuple[str, ...] = ()) -> str:
    """SHA-256 over every table's rows (sorted), read with sqlite3 (read-only, the file as it is).

    ``skip``: tables left out (the hub's record of accepted requests grows with every
    authenticated request, whatever the request then does).
    """
    digest = hashlib.sha256()
    conn = rawdb.connect(f"file:{Path(db_path)}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for table in (t for t in tables if t not in skip):
            digest.update(f"table {table}\n".encode("utf-8"))
            rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"'))
            for row in rows:
                digest.update(row.encode("utf-8") + b"\n")
    finally:
        conn.close()
    return digest.hexdigest()


def folder_digest(path: Path) -> str:
    """SHA-256 over the relative path and bytes of every file below ``path`` (a missing folder: no files)."""
    digest = hashlib.sha256()
    root = Path(path)
    if root.is_dir():
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(file.relative_to(root).as_posix().encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()
