"""Safe file writes: temp file beside the target, fsync, rename. Never a half-written file."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Callable

from core.errors import InvalidInput
from db.cipher import fsync_dir  # noqa: F401  (core's one folder fsync is the database layer's)


TEMP_SUFFIX = ".part"  # a temp file of ``write_through_temp``: ".<target name>.<random>.part"


def is_temp(path: Path) -> bool:
    """A temp file of ``write_through_temp`` (a write still running, or one a killed run left)."""
    return path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX)


def write_through_temp(target: Path, fill: Callable[[BinaryIO], object], *, what: str = "") -> None:
    """Write ``target`` by ``fill(file)`` into a temp file in the same folder, then rename it.

    A full disk or a pulled USB stick leaves at most a ``.part`` file (removed when
    possible), never a half-written file under the final name; any other error from ``fill``
    removes the temp file too and is raised as it is. ``what``: how the message names the
    file ("同步包 "). The temp file is created 0600.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise InvalidInput(f"无法写入{what}{target}：{exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except BaseException as exc:  # anything ``fill`` raises leaves no temp file behind either
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InvalidInput(f"无法写入{what}{target.name}（{exc.strerror or exc}），请检查磁盘空间") from exc
        raise


STALE_PART_SECONDS = 3600  # a temp file not written for this long belongs to no running write


def remove_stale_parts(folder: Path, name_glob: str) -> int:
    """Remove the temp files ``write_through_temp`` left in ``folder`` for targets matching
    ``name_glob`` when its process was killed (a crash, power lost) before it could: hidden,
    they would only fill the disk or the USB stick. Only those not written for an hour: a
    write still running (another export into the same folder) keeps writing to its own.
    Returns how many were removed; one that cannot be removed is left."""
    now, removed = time.time(), 0
    for temp in Path(folder).glob(f".{name_glob}.*{TEMP_SUFFIX}"):
        try:
            if temp.is_file() and not temp.is_symlink() and now - temp.stat().st_mtime > STALE_PART_SECONDS:
                temp.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def write_atomically(target: Path, data: bytes) -> None:
    write_through_temp(target, lambda fh: fh.write(data))
