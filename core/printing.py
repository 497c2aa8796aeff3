"""A4 forms with reportlab: 现场检查笔录, the checklist record, 责令改正通知书.

Laid out like the SAMR model documents (DOMAIN.md §3). The CJK font ships in
``resources/fonts`` and is embedded (subset) in every PDF. Every page carries the
document number, a QR code to verify it, signature lines with the drawn signatures
(or the noted refusal) and "第 X 页 共 Y 页".
"""
from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from core import typeset
from core.corrections import correction_notice
from core.errors import InvalidInput
from core.files import write_atomically
from core.forms import STORIES, Page
from core.casework.kinds import KIND_TITLES as CASE_TITLES
from core.forms.common import date_cn
from core.inspections import (
    PARTY_ROLE,
    WITNESS_ROLE,
    InspectionRecord,
    load_inspection,
    officer_role,
)
from core.officer_keys import describe, record_check
from core.users import require
from core.verification import FORMS, form_number, make_payload
from core.version import app_banner

if TYPE_CHECKING:
    from core.context import AppContext

FONT = typeset.BODY
TITLE_FONT = typeset.TITLE
# 《党政机关公文格式》: the binding side (left) wider than the other; the text block keeps the
# 174 mm the stories' tables are laid out for
LEFT_MARGIN_MM, RIGHT_MARGIN_MM = 25, 11
FOOTER_MM = 30


def _register_font() -> str:
    """Register the body font (the title and fallback fonts load when first needed)."""
    return typeset.font(FONT)


@lru_cache(maxsize=1)
def _styles():
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    font = _register_font()
    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    title = typeset.font(TITLE_FONT)
    return {
        "base": base,
        "organ": ParagraphStyle("organ", parent=base, fontName=title, fontSize=14, leading=20, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontName=title, fontSize=20, leading=28, alignment=TA_CENTER,
                                spaceAfter=2),
        "number": ParagraphStyle("number", parent=base, alignment=TA_CENTER, spaceAfter=8),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9.5, leading=13.5),
        "th": ParagraphStyle("th", parent=base, fontSize=9.5, leading=13.5, alignment=TA_CENTER),
        "label": ParagraphStyle("label", parent=base, fontSize=9.5, leading=13.5),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12),
        "head": ParagraphStyle("head", parent=base, fontName=title, fontSize=11.5, leading=18, spaceBefore=6,
                               keepWithNext=1),
        "body": ParagraphStyle("body", parent=base, firstLineIndent=21),
        "right": ParagraphStyle("right", parent=base, alignment=2),
    }


def _p(text: str, style: str = "base"):
    """A paragraph of plain text: per-glyph font fallback, Chinese line breaking; a table
    header ("th") shrinks to one line rather than break inside a word."""
    return typeset.paragraph(text, _styles()[style], fit=style in ("th", "label"))


def _paras(text: str, style: str = "body") -> list:
    """One paragraph per line, so each keeps the first-line indent of official documents."""
    return [_p(line, style) for line in text.splitlines() if line.strip()] or [_p("（无）", style)]


def _qr_image(payload: str):
    import qrcode
    from reportlab.lib.utils import ImageReader

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=6)
    qr.add_data(payload.encode("utf-8"))
    qr.make(fit=True)
    buffer = BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    buffer.seek(0)
    return ImageReader(buffer)


def _canvas_class(page: Page):
    """A canvas that waits for the last page, then draws the header and footer on each."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    record = page.record
    qr = _qr_image(page.payload)
    signatures = {role: ImageReader(BytesIO(sig.png)) for role, sig in record.signatures.items() if sig.png}
    width, height = A4

    class FormCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for index, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self._decorate(index, total)
                super().showPage()
            super().save()

        def _signature(self, role: str, label: str, x: float, y: float) -> float:
            """Label, the drawn signature (or a blank line to sign by hand), the date it was signed."""
            x += typeset.draw_text(self, x, y, label, 9.5) + 1 * mm
            image = signatures.get(role) if not page.wet else None
            signature = record.signatures.get(role) if not page.wet else None
            if image is not None:
                self.drawImage(image, x, y - 3 * mm, width=24 * mm, height=9 * mm, mask="auto", preserveAspectRatio=True)
            elif signature is not None and signature.problem:
                typeset.draw_text(self, x, y + 0.3 * mm, "（签名图像无法读取）", 5.5)  # fits the 24 mm line
            self.line(x, y - 1.2 * mm, x + 24 * mm, y - 1.2 * mm)
            when = date_cn(signature.signed_at) if signature is not None and signature.signed_at else "　年　月　日"
            return x + 27 * mm + typeset.draw_text(self, x + 25 * mm, y, when, 7.5)

        def _decorate(self, index: int, total: int) -> None:
            left, right = LEFT_MARGIN_MM * mm, width - RIGHT_MARGIN_MM * mm
            # header: document number and the QR code to verify the printed form
            size = 20 * mm
            self.drawImage(qr, right - size, height - 6 * mm - size, width=size, height=size)
            typeset.draw_text(self, right - size / 2, height - 8.5 * mm - size, "扫码核验", 7, align="centre")
            typeset.draw_text(self, left, height - 12 * mm,
                              f"{page.title if page.form != 'checklist' else FORMS['checklist']}  {page.number}", 8.5)
            if not record.locked:
                self.setFillColorRGB(0.75, 0.1, 0.1)
                typeset.draw_text(self, left, height - 16.5 * mm, "草稿：尚未签名锁定，不作为正式文书", 9)
                self.setFillColorRGB(0, 0, 0)
            elif page.wet:
                typeset.draw_text(self, left, height - 16.5 * mm, "纸质签名文书：以当事人、执法人员亲笔签名的原件为准", 8.5)
            y = FOOTER_MM * mm - 8 * mm
            self.setLineWidth(0.5)
            self.line(left, FOOTER_MM * mm - 2 * mm, right, FOOTER_MM * mm - 2 * mm)
            if page.form in ("rectification", "service", "review", *CASE_TITLES):  # signed in the body or on paper
                typeset.draw_text(self, right, y - 11 * mm, f"第 {index} 页 共 {total} 页", 9.5, align="right")
                return
            # footer: signatures on every page, each with its date, then the page count
            x = left
            if page.form == "questioning":  # the person asked signs every page (范本 14)
                self._signature("person", "被询问人签名：", x, y)
            elif record.party_refused or record.legal.get("party_absent"):
                note = "当事人拒绝签字" if record.party_refused else "当事人不在场"
                x += typeset.draw_text(self, x, y, note, 9.5) + 4 * mm
                self._signature(WITNESS_ROLE, f"见证人（{record.witness_name}）：", x, y)
            else:
                self._signature(PARTY_ROLE, "当事人签名：", x, y)
            x = left
            y -= 11 * mm
            x += typeset.draw_text(self, x, y, "执法人员签名：", 9.5) + 1 * mm
            for i, _officer in enumerate(record.officers):
                x = self._signature(officer_role(i), "", x, y)
            if page.settings.get("officer_keys"):
                typeset.draw_text(self, left, y - 5.5 * mm, page.settings["officer_keys"][:90], 7)
            typeset.draw_text(self, right, y, f"第 {index} 页 共 {total} 页", 9.5, align="right")

    return FormCanvas


def _notice_box(lines: list[str]) -> list:
    """A boxed statement under the heading (a correction names the original and what it corrects)."""
    from reportlab.lib import colors
    from reportlab.platypus import Spacer, Table, TableStyle

    box = Table([[[_p(line, "cell") for line in lines]]], colWidths=["100%"])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1, colors.black),
                             ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
    return [box, Spacer(1, 6)]


def _kit() -> SimpleNamespace:
    """The typesetting helpers the stories (core.forms) use."""
    return SimpleNamespace(p=_p, paras=_paras, font=_register_font())


def render_pdf(record: InspectionRecord, form: str, *, organ: str, settings: dict | None = None,
               notice: list[str] | None = None, file_key: bytes | None = None) -> bytes:
    """The form as PDF bytes. ``settings``: the station's (复议机关, time limits), as ``AppContext.setting``;
    ``notice``: the lines of a correction's box (``core.corrections.correction_notice``);
    ``file_key``: the database's attachments key (``AppContext.file_key``), to read encrypted photos."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    if form not in STORIES:
        raise InvalidInput(f"未知的文书类型“{form}”（可用：{'、'.join(STORIES)}）")
    page = Page(record, form, form_number(record, form), make_payload(record, form), organ, _kit(), settings or {},
                file_key)
    story = STORIES[form](page)
    if notice:
        story[3:3] = _notice_box(notice)  # after the heading: organ, title, number
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4,
        leftMargin=LEFT_MARGIN_MM * mm, rightMargin=RIGHT_MARGIN_MM * mm,
        topMargin=30 * mm, bottomMargin=(FOOTER_MM + 2) * mm,
        initialFontName=FONT, title=f"{page.title} {page.number}", author=organ, creator=app_banner(),
    )
    doc.build(story, canvasmaker=_canvas_class(page))
    return buffer.getvalue()


def warm_up() -> None:
    """Load reportlab, qrcode and the CJK font ahead of time (the first form is then as fast as
    the rest). The GUI runs this on a worker thread after the window shows."""
    import qrcode  # noqa: F401
    from reportlab.platypus import SimpleDocTemplate  # noqa: F401

    _styles()


def render_form(ctx: AppContext, record: InspectionRecord, form: str) -> bytes:
    """An enforcement document as PDF bytes, for a user allowed to print them."""
    require(ctx, "print")
    if record.status == "voided":
        raise InvalidInput(f"检查记录 {record.number} 已作废，不能打印（见作废登记）")
    settings = {key: ctx.setting_or(key, "") for key in ("review_organ", "review_days", "court", "lawsuit_months")}
    settings = {k: v for k, v in settings.items() if v}
    if form == "review":  # the 整改复查意见书 cites the order it follows up
        from core.reinspection import original_order

        settings["original"] = original_order(ctx, record)
    if record.locked:  # whose own key signed it, and who signed by hand only (an officer from elsewhere)
        settings["officer_keys"] = describe(record_check(ctx, record))
    return render_pdf(record, form, organ=ctx.setting("organ_name"), settings=settings,
                      notice=correction_notice(ctx, record.id), file_key=ctx.file_key)


def print_form(ctx: AppContext, id_or_number: str, form: str, out: Path) -> Path:
    """Render one form of an inspection to a PDF file."""
    pdf = render_form(ctx, load_inspection(ctx, id_or_number), form)
    write_atomically(Path(out), pdf)
    return Path(out)


def render_questioning(ctx: AppContext, questioning_id: str) -> bytes:
    """A 询问笔录 (``core.questioning``) as PDF bytes, for a user allowed to print."""
    from core.questioning import FORM, load_questioning

    require(ctx, "print")
    return render_pdf(load_questioning(ctx, questioning_id), FORM, organ=ctx.setting("organ_name"))


def print_questioning(ctx: AppContext, questioning_id: str, out: Path) -> Path:
    write_atomically(Path(out), render_questioning(ctx, questioning_id))
    return Path(out)


def render_case_document(ctx: AppContext, document_id: str) -> bytes:
    """A case paper (``core.casework``: 立案审批表, 先行登记保存证据通知书 …) as PDF bytes."""
    from core.casework.store import load_case_document

    require(ctx, "print")
    record = load_case_document(ctx, document_id)
    if record.status == "voided":
        raise InvalidInput(f"{record.title} {record.number} 已作废，不能打印（见作废登记）")
    return render_pdf(record, record.kind, organ=ctx.setting("organ_name"))


def print_case_document(ctx: AppContext, document_id: str, out: Path) -> Path:
    write_atomically(Path(out), render_case_document(ctx, document_id))
    return Path(out)


def render_service_receipt(ctx: AppContext, receipt_id: str) -> bytes:
    """A 送达回证 (``core.service_receipts``) as PDF bytes."""
    from core.service_receipts import FORM, load_receipt

    require(ctx, "print")
    return render_pdf(load_receipt(ctx, receipt_id), FORM, organ=ctx.setting("organ_name"))


def print_service_receipt(ctx: AppContext, receipt_id: str, out: Path) -> Path:
    """A 送达回证 as a PDF file."""
    write_atomically(Path(out), render_service_receipt(ctx, receipt_id))
    return Path(out)
