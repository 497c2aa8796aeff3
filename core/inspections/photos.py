"""Photos of an inspection: image files stored once by content hash in the attachments folder."""
from __future__ import annotations

import hashlib
from io import BytesIO
import json
from pathlib import Path
from typing import TYPE_CHECKING

from core.checklists import template_from_snapshot
from sqlalchemy import select

from core.attachments import write_attachment
from core.errors import InvalidInput, NotFound, WorkflowError
from core.inspections.records import PhotoRow, editable, load_orm, photo_path, touch
from core.users import require
from db.models import (
    PaperScan,
    Photo,
)

if TYPE_CHECKING:
    from core.context import AppContext


_IMAGE_EXT = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "GIF": "gif", "TIFF": "tif", "WEBP": "webp"}


def image_format(data: bytes) -> str | None:
    """The file extension for an image Pillow can read, or None for anything else."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as img:
            fmt = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return _IMAGE_EXT.get(fmt or "")


def store_image(ctx: AppContext, source: Path) -> tuple[str, str, Path]:
    """Copy an image into the attachments folder under its SHA-256: (sha256, ext, path).

    Anything that is not an image is refused with a message; the file is kept whole.
    """
    source = Path(source)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"无法读取文件 {source.name}：{exc.strerror or exc}") from exc
    ext = image_format(data)
    if ext is None:
        raise InvalidInput(f"文件 {source.name} 不是可识别的图片（支持 JPG、PNG、BMP、GIF、TIFF、WEBP）")
    sha = hashlib.sha256(data).hexdigest()
    target = photo_path(ctx, sha, ext)
    if not target.exists():
        write_attachment(ctx, target, data)  # encrypted when the database is
    return sha, ext, target


def add_photo(ctx: AppContext, inspection_id: str, item_code: str, source: Path) -> PhotoRow:
    """Copy a photo into the attachments folder under its SHA-256 and link it to the item."""
    require(ctx, "inspect")
    source = Path(source)
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        template_from_snapshot(inspection.template_json).item(item_code)
        sha, ext, target = store_image(ctx, source)
        photo = Photo(device_id=ctx.device_id, item_code=item_code, sha256=sha, ext=ext, original_name=source.name)
        inspection.photos.append(photo)
        touch(inspection, reopen=True)
        s.flush()
        return PhotoRow(photo.id, item_code, sha, target, source.name)


def remove_photo(ctx: AppContext, inspection_id: str, photo_id: str) -> None:
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        for photo in list(inspection.photos):
            if photo.id == photo_id:
                inspection.photos.remove(photo)
                touch(inspection, reopen=True)
                return
        raise NotFound("找不到该照片")


def attach_paper_scan(ctx: AppContext, inspection_id: str, source: Path) -> str:
    """Attach a scan or photo of the signed paper original of a record printed for wet
    signatures (after it was locked; the content hash does not cover it). Returns the row id."""
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = load_orm(s, inspection_id)
        if inspection.status != "signed" or not json.loads(inspection.legal_json or "{}").get("wet"):
            raise WorkflowError(f"检查记录 {inspection.number} 未按纸质签名打印锁定，不需要附加纸质原件扫描件")
        sha, ext, _target = store_image(ctx, source)
        scan = PaperScan(device_id=ctx.device_id, inspection_id=inspection.id, sha256=sha, ext=ext,
                         original_name=Path(source).name[:260], attached_at=ctx.clock(),
                         attached_by=ctx.user.name if ctx.user is not None else "系统")
        s.add(scan)
        s.flush()
        return scan.id


def paper_scans(ctx: AppContext, inspection_id: str) -> list[PhotoRow]:
    """The scans attached to a record, oldest first (item_code "纸质原件")."""
    with ctx.sessions() as s:
        rows = s.scalars(select(PaperScan).where(PaperScan.inspection_id == inspection_id)
                         .order_by(PaperScan.attached_at)).all()
        return [PhotoRow(r.id, "纸质原件", r.sha256, photo_path(ctx, r.sha256, r.ext), r.original_name) for r in rows]
