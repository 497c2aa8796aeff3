"""Copies of a station's database with everything that goes with it (key sidecar, anchors, attachments)."""
from __future__ import annotations

import shutil
from pathlib import Path


def station_files(db: Path) -> list[Path]:
    """The database file and what lies beside it under its name: ``<name>.keys``, ``<name>.anchors``,
    ``<name>-wal``, ``<stem>-attachments/``, ``<stem>-backups/``..."""
    db = Path(db)
    found = [p for p in db.parent.iterdir() if p.name.startswith((db.name, f"{db.stem}-"))]
    assert db in found, db
    return sorted(found)


def copy_station(db: Path, folder: Path) -> Path:
    """Copy ``db`` and its files into ``folder`` (made if needed) under the same names; the copy's path."""
    db, folder = Path(db), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for path in station_files(db):
        if path.is_dir():
            shutil.copytree(path, folder / path.name)
        else:
            shutil.copy2(path, folder / path.name)
    return folder / db.name
