"""Digests that say "nothing changed": every table of a database, every file of a folder."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path


def database_digest(db_path: str | Path) -> str:
    """SHA-256 over every table's rows (sorted), read with sqlite3; the schema is covered by the names."""
    digest = hashlib.sha256()
    conn = sqlite3.connect(f"file:{Path(db_path)}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for table in tables:
            digest.update(f"\x00table {table}\x00".encode())
            rows = sorted(repr(tuple(row)) for row in conn.execute(f'SELECT * FROM "{table}"'))
            for row in rows:
                digest.update(row.encode("utf-8", "surrogatepass"))
                digest.update(b"\x00")
    finally:
        conn.close()
    return digest.hexdigest()


def folder_digest(path: Path) -> str:
    """SHA-256 over the relative path and bytes of every file below ``path`` (nothing if it is missing)."""
    digest = hashlib.sha256()
    path = Path(path)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink()):
            digest.update(file.relative_to(path).as_posix().encode("utf-8", "surrogatepass") + b"\x00")
            digest.update(file.read_bytes() if file.is_file() else b"<symlink>")
            digest.update(b"\x00")
    return digest.hexdigest()
