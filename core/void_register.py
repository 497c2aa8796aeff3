"""作废登记 (the void register): voiding a draft, listing the register, printing it.

A document number, once taken, is never silently lost: a draft that is voided (作废, with a
reason) keeps its record (status ``voided``, read-only, nothing the user entered is lost)
and its number — and the number of its 责令改正通知书, if one was issued — is entered in the
register with the reason, who and when. ``core.inspections.workflow`` enters an order dropped
when a reopened inspection is completed again without failed items. The register syncs
(``core.sync.spec``), so the station's list holds every device's voided numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.errors import InvalidInput, NotFound, RecordLocked
from core.text import bounded_text
from core.files import write_atomically
from core.inspections.records import editable
from core.numbering import DOC_KIND_LABELS, register_void
from core.users import require
from core.version import app_banner
from db.models import InspectionTask, Questioning, VoidedNumber

if TYPE_CHECKING:
    from core.context import AppContext

MAX_REASON = 500


@dataclass(frozen=True)
class VoidRow:
    number: str
    doc_kind: str
    inspection_id: str | None
    reason: str
    voided_by: str
    voided_at: datetime

    @property
    def doc_label(self) -> str:
        return DOC_KIND_LABELS.get(self.doc_kind, self.doc_kind)


def _actor(ctx: AppContext) -> str:
    return ctx.user.name if ctx.user is not None else "系统"


def clean_reason(reason: str) -> str:
    return bounded_text(reason, "作废原因", MAX_REASON, required=True)


def void_draft(ctx: AppContext, inspection_id: str, reason: str) -> list[str]:
    """Void an unsigned inspection (草稿 or 已完成); returns the numbers entered in the register."""
    require(ctx, "inspect")
    reason = clean_reason(reason)
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)  # refuses a signed or already voided record
        now = ctx.clock()
        entries = [(inspection.number, "inspection")]
        if inspection.rectification is not None:
            entries.append((inspection.rectification.number, "rectification"))
        for number, kind in entries:
            register_void(s, number=number, doc_kind=kind, inspection_id=inspection.id, reason=reason,
                          voided_by=_actor(ctx), voided_at=now, device_id=ctx.device_id)
        inspection.status = "voided"
        inspection.completed_at = None
        # a task that was being done by this inspection is open again, to be started anew
        task = s.scalar(select(InspectionTask).where(InspectionTask.inspection_id == inspection.id))
        if task is not None:
            task.inspection_id = None
            task.status = "open"
        return [number for number, _kind in entries]


def void_questioning(ctx: AppContext, questioning_id: str, reason: str) -> str:
    """Void an unsigned 询问笔录: it stays, read-only (status ``voided``); its number goes in the register."""
    require(ctx, "inspect")
    reason = clean_reason(reason)
    with ctx.transaction() as s:
        row = s.get(Questioning, questioning_id) or s.scalar(
            select(Questioning).where(Questioning.number == questioning_id.strip()))
        if row is None:
            raise NotFound(f"没有询问笔录 {questioning_id}")
        if row.status == "signed":
            raise RecordLocked(f"询问笔录 {row.number} 已签名锁定，不能作废；如有错误请另行制作询问笔录并说明")
        if row.status == "voided":
            raise InvalidInput(f"询问笔录 {row.number} 已作废")
        register_void(s, number=row.number, doc_kind="questioning", inspection_id=row.inspection_id, reason=reason,
                      voided_by=_actor(ctx), voided_at=ctx.clock(), device_id=ctx.device_id)
        row.status = "voided"
        return row.number


def list_voided(ctx: AppContext, *, year: int | None = None) -> list[VoidRow]:
    """The register, oldest first (optionally one year's entries)."""
    query = select(VoidedNumber).order_by(VoidedNumber.voided_at, VoidedNumber.number)
    with ctx.sessions() as s:
        rows = [VoidRow(v.number, v.doc_kind, v.inspection_id, v.reason, v.voided_by, v.voided_at)
                for v in s.scalars(query)]
    if year is not None:
        rows = [r for r in rows if r.voided_at.year == year]
    return rows


def voided_pdf(ctx: AppContext, *, year: int | None = None) -> bytes:
    """The register as an A4 PDF table (文书编号作废登记表)."""
    require(ctx, "print")
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

    from core.printing import FONT, _p

    rows = list_voided(ctx, year=year)
    organ = ctx.setting("organ_name")
    story = [_p(organ, "organ"), _p("文书编号作废登记表", "title"),
             _p(f"{year}年度" if year else f"截至 {ctx.clock():%Y年%m月%d日}", "number")]
    data = [[_p(h, "cell") for h in ("序号", "文书编号", "文书种类", "作废原因", "登记人", "登记时间")]]
    for n, r in enumerate(rows, 1):
        data.append([_p(str(n), "cell"), _p(r.number, "cell"), _p(r.doc_label, "cell"), _p(r.reason, "cell"),
                     _p(r.voided_by, "cell"), _p(f"{r.voided_at:%Y-%m-%d %H:%M}", "cell")])
    if not rows:
        data.append([_p("—", "cell"), _p("（无作废的文书编号）", "cell"), "", "", "", ""])
    widths = [12 * mm, 42 * mm, 30 * mm, 42 * mm, 18 * mm, 30 * mm]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    story += [table, Spacer(1, 10), _p(f"共 {len(rows)} 个编号。作废的编号不再使用。", "base"),
              Spacer(1, 18), _p("审核人：＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日", "right")]

    def footer(canvas, doc) -> None:
        canvas.setFont(FONT, 9)
        canvas.drawRightString(A4[0] - 18 * mm, 12 * mm, f"第 {doc.page} 页")

    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title="文书编号作废登记表", author=organ, creator=app_banner())
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def print_voided(ctx: AppContext, out: Path, *, year: int | None = None) -> Path:
    write_atomically(Path(out), voided_pdf(ctx, year=year))
    return Path(out)


def voided_reason(ctx: AppContext, inspection_id: str) -> str | None:
    """Why an inspection was voided (None if it was not)."""
    with ctx.sessions() as s:
        row = s.scalar(select(VoidedNumber).where(VoidedNumber.inspection_id == inspection_id,
                                                  VoidedNumber.doc_kind == "inspection"))
        return None if row is None else row.reason


