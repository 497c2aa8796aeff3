"""Signature images as attachment files, and moving the old ones out of the database.

A signature drawn on screen is a PNG file in the attachments folder, named by its SHA-256
(``records.signature_path``), written and read only through ``core.attachments`` (encrypted
under ``ctx.file_key`` when the database is encrypted). The ``signatures`` row keeps the
SHA-256; its ``png`` column is NULL. Rows made before revision 0023 still hold their PNG:
``move_signatures`` moves them out, crash-safe and re-runnable —

1. the files of a chunk are written (temp file, rename) unless a file of that name already
   reads back whole and hashing to it, then made durable at once (``os.sync()``; where there
   is none, an fsync per file) — one fsync per file costs ~12 ms here, hours at city scale;
2. the file is read back through ``core.attachments`` (decrypts, hashes to the row's sha256);
3. only then, in one transaction, ``png`` is set to NULL for those rows (``WHERE png IS NOT
   NULL``: two runs at once do no harm).

Killed between 1 and 3, the row still holds its PNG and a later run NULLs it. A row whose
PNG does not hash to its ``sha256`` is left as it is (counted as damaged, never lost). The
signed-record lock (``db.signed_lock``) lets exactly this change through on a signed record:
``png`` to NULL, every other column unchanged. The record's content hash lists the
signatures' SHA-256 only, so it is the same before and after.

Not an Alembic migration: writing encrypted files needs the database key, which Alembic has
not got. ``after_open`` moves a bounded chunk at every open; ``main.py attachments
move-signatures`` moves all of them.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from sqlalchemy import bindparam, select, text

from core.attachments import read_attachment, stored_form, write_attachment
from core.errors import InvalidInput
from core.files import fsync_dir
from core.inspections.records import signature_path
from db.models import Signature

if TYPE_CHECKING:
    from core.context import AppContext

log = logging.getLogger(__name__)

CHUNK = 200          # rows per transaction
AT_OPEN = 20         # rows moved at each open (≈ 50 ms: the cold start stays in its budget)
# the one change the signed-record lock lets through on a signed record's signature
_NULL_PNG = text("UPDATE signatures SET png = NULL WHERE png IS NOT NULL AND id IN :ids").bindparams(
    bindparam("ids", expanding=True))


def store_signature(ctx: AppContext, png: bytes) -> str:
    """Write a signature image as an attachment file (if not there already, intact); its SHA-256."""
    sha = hashlib.sha256(png).hexdigest()
    path = signature_path(ctx, sha)
    if path.exists():
        try:
            read_attachment(ctx, path)
            return sha
        except InvalidInput:
            pass  # a damaged or foreign file under the name: written again
    write_attachment(ctx, path, png)
    fsync_dir(path.parent)
    return sha


def _write_unsynced(ctx: AppContext, png: bytes) -> list[Path]:
    """The move's write: like ``store_signature`` but not fsynced one by one (``_make_durable`` then
    flushes the chunk at once: one sync instead of ~12 ms of fsync per file). The paths written."""
    sha = hashlib.sha256(png).hexdigest()
    path = signature_path(ctx, sha)
    if path.exists():
        try:
            read_attachment(ctx, path)
            return []
        except InvalidInput:
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.move.part")
    try:
        temp.write_bytes(stored_form(ctx, path.name, png))
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InvalidInput(f"无法写入签名图像文件 {path.name}（{exc.strerror or exc}），请检查磁盘空间；数据库未作更改") from exc
    return [path]


def _make_durable(paths: list[Path]) -> None:
    """The files and their folders' entries on disk: one ``sync()`` where there is one, else fsync each."""
    if not paths:
        return
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in paths:  # Windows: no sync(); each file flushed (its rename is durable enough there)
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())


@dataclass
class MoveSummary:
    moved: int = 0       # rows whose PNG is now a file (column NULL)
    damaged: int = 0     # rows whose PNG does not hash to their sha256: left in the database
    remaining: int = 0   # rows still holding a PNG after this run (damaged ones included)
    cancelled: bool = False

    def describe(self) -> str:
        text = f"已将签名图像 {self.moved} 个移入附件目录；数据库中仍存 {self.remaining} 个"
        if self.damaged:
            text += f"（其中 {self.damaged} 个与其摘要不符，保留原样）"
        return text + ("；已取消，可再次运行" if self.cancelled else "")


def pending(ctx: AppContext) -> int:
    """How many signature rows still hold their PNG in the database."""
    from sqlalchemy import func

    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(Signature).where(Signature.png.is_not(None))) or 0


def move_signatures(ctx: AppContext, *, limit: int | None = None, chunk: int = CHUNK,
                    progress: Callable[[int, int], None] | None = None,
                    cancelled: Callable[[], bool] | None = None) -> MoveSummary:
    """Move signature PNGs still in the database into attachment files (see the module doc).

    ``limit``: at most this many rows (``after_open``); None: all. Re-running is harmless.
    """
    summary = MoveSummary()
    total = pending(ctx) if progress is not None else 0
    after = ""
    while limit is None or summary.moved + summary.damaged < limit:
        if cancelled is not None and cancelled():
            summary.cancelled = True
            break
        size = chunk if limit is None else min(chunk, limit - summary.moved - summary.damaged)
        with ctx.sessions() as s:
            rows = s.execute(select(Signature.id, Signature.sha256, Signature.png).where(
                Signature.png.is_not(None), Signature.id > after).order_by(Signature.id).limit(size)).all()
        if not rows:
            break
        after = rows[-1].id
        done, written = [], []
        for row in rows:
            if hashlib.sha256(row.png).hexdigest() != row.sha256:
                summary.damaged += 1
                continue
            written += _write_unsynced(ctx, row.png)
            done.append(row.id)
        _make_durable(written)  # every file of the chunk on disk before any column is NULLed
        for row in rows:
            if row.id in done:  # the file is there, whole: or InvalidInput, and nothing is NULLed
                read_attachment(ctx, signature_path(ctx, row.sha256))
        if done:
            with ctx.engine.begin() as connection:  # plain SQL: no ORM listener, no onupdate of updated_at
                result = connection.execute(_NULL_PNG, {"ids": done})
                summary.moved += result.rowcount
        if progress is not None:
            progress(summary.moved + summary.damaged, total)
    summary.remaining = pending(ctx)
    return summary


def after_open(ctx: AppContext) -> None:
    """At every open: move a bounded chunk of old signature PNGs out (never fails the open)."""
    try:
        with ctx.sessions() as s:
            if s.scalar(select(Signature.id).where(Signature.png.is_not(None)).limit(1)) is None:
                return  # the partial index ix_signatures_png_pending answers this at once
        move_signatures(ctx, limit=AT_OPEN)
    except Exception as exc:  # a read-only file, a full disk: the images stay where they are
        log.warning("签名图像未能移入附件目录：%s", getattr(exc, "message", exc))
