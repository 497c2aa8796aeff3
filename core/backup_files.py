"""The attachment files (photos, paper scans, lead photos, signature images) in the backups.

A backup of the database is one file; the attachments folder beside the database
(``<db>-attachments/``) goes into one folder shared by all of that database's backups,
``<db>-backups/attachments/``, in the same layout. The files are named by the SHA-256 of
their plain content and never change, so the copy is incremental: a file already there is
not copied again, and a backup that is pruned takes no file with it (an older backup may
name it). The files are copied as they are on disk — encrypted under the database's file key
when it is encrypted (a restored database with the same key reads them).

A restore puts back every file of that folder that is missing in the attachments folder
(a laptop's disk replaced, the folder deleted): a restored record prints its signatures. When
the database it is restored into keeps a key of its own (a backup of another database, or of
this one before its key changed: ``core.backup.restore_backup`` re-keys the rows into it), each
file is read with the backup's file key, checked against its name, and written again under the
database's, so the restored records' photos and signatures open.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from core import attachments
from core.errors import InvalidInput
from core.files import write_through_temp

FOLDER = "attachments"
_SKIP = (".staging",)


def attachments_of(db_file: Path) -> Path:
    """The attachments folder of a database file (``core.context.AppContext.open``'s default)."""
    db_file = Path(db_file)
    return db_file.parent / f"{db_file.stem}-attachments"


def _files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in _SKIP or path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        out.append(path)
    return out


def _copy_missing(source_root: Path, target_root: Path, *, what: str, rekey=None) -> int:
    """Copy the files of ``source_root`` missing in ``target_root``. ``rekey``: (the source's file
    key, the target's), when they differ: each file decrypted (and checked) and written again."""
    copied = 0
    for source in _files(source_root):
        target = target_root / source.relative_to(source_root)
        if target.exists():
            continue
        try:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if rekey is None:
                with open(source, "rb") as fh:
                    write_through_temp(target, lambda out, fh=fh: shutil.copyfileobj(fh, out), what=what)
            else:
                _rewrite(source, target, *rekey, what=what)
        except OSError as exc:
            raise InvalidInput(f"无法复制附件 {source.name}（{exc.strerror or exc}）") from exc
        copied += 1
    return copied


def _rewrite(source: Path, target: Path, source_key: bytes | None, target_key: bytes | None, *, what: str) -> None:
    data = attachments.load(source, source_key)  # refuses a file that does not decrypt or match its name
    if target_key is None:
        write_through_temp(target, lambda out: out.write(data), what=what)
        return
    pieces = attachments.encrypted_chunks(data, target_key, target.name)
    write_through_temp(target, lambda out: [out.write(piece) for piece in pieces], what=what)


def back_up_files(db_file: Path, backup_folder: Path) -> int:
    """Copy the database's attachment files not yet in ``<backups>/attachments``; how many were copied."""
    source = attachments_of(db_file)
    if not _files(source):
        return 0  # no attachments: no folder (the backups folder holds 0600 files only)
    target = Path(backup_folder) / FOLDER
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(target, 0o700)
    return _copy_missing(source, target, what="附件备份 ")


def restore_files(backup: Path, db_file: Path, *, source_key: bytes | None = None,
                  target_key: bytes | None = None) -> int:
    """Put back the attachment files of ``backup``'s folder missing beside ``db_file``; how many.
    ``source_key``/``target_key``: the backup's and the database's file keys (``dbkeys.file_key``;
    None for a plain database): when they differ the files are re-encrypted on the way."""
    source = Path(backup).parent / FOLDER
    rekey = None if source_key == target_key else (source_key, target_key)
    return _copy_missing(source, attachments_of(db_file), what="附件 ", rekey=rekey)
