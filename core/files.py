"""Safe file writes: temp file beside the target, fsync, rename. Never a half-written file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from core.errors import InvalidInput


def write_atomically(target: Path, data: bytes) -> None:
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise InvalidInput(f"无法写入 {target}：{exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise InvalidInput(f"无法写入 {target.name}（{exc.strerror or exc}），请检查磁盘空间") from exc
