"""Digests for the security tests: "nothing changed" means these are equal before and after."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path


def database_digest(db_path: str | Path) -> str:
    """SHA-256 over every table's rows, sorted, read through a plain read-only sqlite3 connection."""
    digest = hashlib.sha256()
    con = sqlite3.connect(f"file:{Path(db_path)}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            digest.update(f"\0table {table}\0".encode("utf-8"))
            rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
            for row in sorted(repr(r) for r in rows):
                digest.update(row.encode("utf-8"))
                digest.update(b"\n")
    finally:
        con.close()
    return digest.hexdigest()


def folder_digest(path: Path) -> str:
    """SHA-256 over the relative path and bytes of every file below ``path`` ("" if it is missing)."""
    digest = hashlib.sha256()
    path = Path(path)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(file.relative_to(path).as_posix().encode("utf-8") + b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()
