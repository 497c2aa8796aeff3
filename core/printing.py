"""A4 forms with reportlab: 现场检查笔录, the checklist record, 责令改正通知书.

Laid out like the SAMR model documents (DOMAIN.md §3). The CJK font ships in
``resources/fonts`` and is embedded (subset) in every PDF. Every page carries the
document number, a QR code to verify it, signature lines with the drawn signatures
(or the noted refusal) and "第 X 页 共 Y 页".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from core import typeset
from core.corrections import correction_notice
from core.errors import InvalidInput
from core.files import write_atomically
from core.inspections import (
    KIND_LABELS,
    PARTY_ROLE,
    WITNESS_ROLE,
    InspectionRecord,
    load_inspection,
    officer_role,
)
from core.users import require
from core.verification import FORMS, form_number, make_payload

if TYPE_CHECKING:
    from core.context import AppContext

FONT = typeset.BODY
TITLE_FONT = typeset.TITLE
PAGE_MARGIN_MM = 18
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


def _date_cn(value: datetime | None, *, time: bool = False) -> str:
    if value is None:
        return "    年  月  日"
    text = f"{value.year}年{value.month}月{value.day}日"
    return text + (f" {value.hour:02d}时{value.minute:02d}分" if time else "")


@dataclass(frozen=True)
class _Page:
    """What every page of one document repeats."""

    record: InspectionRecord
    form: str
    number: str
    payload: str
    organ: str


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


def _canvas_class(page: _Page):
    """A canvas that waits for the last page, then draws the header and footer on each."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    record = page.record
    qr = _qr_image(page.payload)
    signatures = {role: ImageReader(BytesIO(sig.png)) for role, sig in record.signatures.items()}
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
            x += typeset.draw_text(self, x, y, label, 9.5) + 1 * mm
            image = signatures.get(role)
            if image is not None:
                self.drawImage(image, x, y - 3 * mm, width=24 * mm, height=9 * mm, mask="auto", preserveAspectRatio=True)
            self.line(x, y - 1.2 * mm, x + 24 * mm, y - 1.2 * mm)
            return x + 27 * mm

        def _decorate(self, index: int, total: int) -> None:
            left, right = PAGE_MARGIN_MM * mm, width - PAGE_MARGIN_MM * mm
            # header: document number and the QR code to verify the printed form
            size = 20 * mm
            self.drawImage(qr, right - size, height - 6 * mm - size, width=size, height=size)
            typeset.draw_text(self, right - size / 2, height - 8.5 * mm - size, "扫码核验", 7, align="centre")
            typeset.draw_text(self, left, height - 12 * mm, f"{FORMS[page.form]}  {page.number}", 8.5)
            if not record.locked:
                self.setFillColorRGB(0.75, 0.1, 0.1)
                typeset.draw_text(self, left, height - 16.5 * mm, "草稿：尚未签名锁定，不作为正式文书", 9)
                self.setFillColorRGB(0, 0, 0)
            # footer: signatures on every page, then the page count
            y = FOOTER_MM * mm - 8 * mm
            self.setLineWidth(0.5)
            self.line(left, FOOTER_MM * mm - 2 * mm, right, FOOTER_MM * mm - 2 * mm)
            x = left
            if record.party_refused:
                x += typeset.draw_text(self, x, y, "当事人拒绝签字", 9.5) + 4 * mm
                x = self._signature(WITNESS_ROLE, f"见证人（{record.witness_name}）：", x, y)
            else:
                x = self._signature(PARTY_ROLE, "当事人签名：", x, y)
            x = left
            y -= 11 * mm
            x += typeset.draw_text(self, x, y, "执法人员签名：", 9.5) + 1 * mm
            for i, _officer in enumerate(record.officers):
                x = self._signature(officer_role(i), "", x, y)
            typeset.draw_text(self, right, y, f"第 {index} 页 共 {total} 页", 9.5, align="right")

    return FormCanvas


def _info_table(rows: list[tuple[str, str, str, str] | tuple[str, str]]):
    """Label/value grid as on the official forms: 4 columns, or a row spanning 3."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    label = colors.HexColor("#f2f2f2")
    data, cell_styles = [], []
    for r, row in enumerate(rows):
        if len(row) == 2:
            data.append([_p(row[0], "label"), _p(row[1], "cell"), "", ""])
            cell_styles.append(("SPAN", (1, r), (3, r)))
        else:
            data.append([_p(row[0], "label"), _p(row[1], "cell"), _p(row[2], "label"), _p(row[3], "cell")])
            cell_styles.append(("BACKGROUND", (2, r), (2, r), label))
    table = Table(data, colWidths=[34 * mm, 53 * mm, 30 * mm, 57 * mm])
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (0, -1), label),
        *cell_styles,
    ]))
    return table


def _officers_text(record: InspectionRecord) -> str:
    return "、".join(f"{o.name}（执法证号 {o.cert_no}）" for o in record.officers) or "（未填写）"


def _party_rows(record: InspectionRecord) -> list:
    party = record.party
    return [
        ("当事人", party.get("name", "")),
        ("统一社会信用代码", party.get("credit_code") or "（无）", "类别", party.get("category", "")),
        ("住所（地址）", party.get("address", "")),
        ("法定代表人（负责人）", party.get("legal_rep", ""), "联系电话", party.get("phone", "")),
    ]


def _heading(page: _Page, title: str) -> list:
    return [_p(page.organ, "organ"), _p(title, "title"), _p(page.number, "number")]


def _record_story(page: _Page) -> list:
    from reportlab.platypus import Spacer

    r = page.record
    end = r.ended_at
    time_text = f"{_date_cn(r.started_at, time=True)} 至 " + (
        f"{end.hour:02d}时{end.minute:02d}分" if end and end.date() == r.started_at.date() else _date_cn(end, time=True)
    )
    story = _heading(page, "现场检查笔录")
    story.append(_info_table([
        ("检查时间", time_text),
        ("检查地点", r.place),
        *_party_rows(r),
        ("现场负责人", r.party_present_name or "（未填写）", "检查类型", KIND_LABELS.get(r.kind, r.kind)),
        ("执法人员", _officers_text(r)),
        ("检查方式", f"{r.notified_by or '现场检查'}；依据《{r.template.title}》"),
    ]))
    story += [
        _p("告知事项", "head"),
        _p(
            f"我们是{page.organ}的执法人员，已向你出示执法证件。现依法进行现场检查，请予配合。"
            "你有如实回答询问、协助检查的义务；你依法享有陈述、申辩的权利；"
            "如认为执法人员与本案有直接利害关系，可以申请回避。",
            "body",
        ),
        _p("现场情况", "head"),
        *_paras(r.findings),
    ]
    failed = r.failed_items()
    if failed:
        story.append(Spacer(1, 4))
        story.append(_items_table(
            ["序号", "检查项目", "不符合情况", "依据"],
            [[str(n), f"{f.section.title}：{f.item.text}", f"{f.item.fail_text}。{f.note}", f.item.basis]
             for n, f in enumerate(failed, 1)],
            widths=(12, 60, 58, 44),
        ))
    story += [
        _p("当事人陈述", "head"),
        *_paras(r.party_statement),
        _p("当事人确认", "head"),
    ]
    if r.party_refused:
        story.append(_p(f"当事人拒绝签字。见证人：{r.witness_name}，见证以上检查过程。", "body"))
    else:
        story.append(_p("以上笔录我已看过，与事实相符。", "body"))
    story.append(Spacer(1, 6))
    story.append(_p(f"检查日期：{_date_cn(r.started_at)}", "right"))
    return story


def _items_table(header: list[str], rows: list[list[str]], *, widths: tuple[float, ...], center_cols=(0,)):
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    data = [[_p(h, "th") for h in header]] + [[_p(c, "cell") for c in row] for row in rows]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
    ]
    style += [("ALIGN", (c, 0), (c, -1), "CENTER") for c in center_cols]
    table.setStyle(TableStyle(style))
    return table


def _checklist_story(page: _Page) -> list:
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table, TableStyle

    r = page.record
    story = _heading(page, r.template.title)
    story.append(_info_table([
        *_party_rows(r)[:3],
        ("检查时间", _date_cn(r.started_at, time=True), "检查地点", r.place),
        ("执法人员", _officers_text(r)),
    ]))
    story.append(Spacer(1, 6))
    header = ["检查项目", "序号", "检查内容", "符合", "不符合", "不适用", "说明"]
    data = [[_p(h, "th") for h in header]]
    style = [  # the section column is boxed per section, not spanned: a span cannot break across pages
        ("GRID", (1, 0), (-1, -1), 0.5, colors.black),
        ("BOX", (0, 0), (0, 0), 0.5, colors.black),
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("VALIGN", (0, 1), (0, -1), "TOP"),
        ("ALIGN", (3, 0), (5, -1), "CENTER"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
    ]
    counts = {"pass": 0, "fail": 0, "na": 0, None: 0}
    for section in r.template.sections:
        first = len(data)
        for item in section.items:
            answer = r.answer(item.code)
            counts[answer.result if answer.result in counts else None] += 1
            marks = ["√" if answer.result == key else "" for key in ("pass", "fail", "na")]
            photos = len(r.photos_of(item.code))
            note = answer.note + (f"（照片{photos}张）" if photos else "")
            data.append([
                _p(f"{section.group}·{section.title}" if section.group else section.title, "cell")
                if len(data) == first else "",
                _p(item.code, "cell"), _p(item.text, "cell"), *marks, _p(note, "cell"),
            ])
        if len(data) > first:
            style.append(("BOX", (0, first), (0, len(data) - 1), 0.5, colors.black))
    table = Table(data, colWidths=[26 * mm, 10 * mm, 64 * mm, 11 * mm, 14 * mm, 14 * mm, 35 * mm], repeatRows=1)
    table.setStyle(TableStyle(style))
    story.append(table)
    story.append(Spacer(1, 6))
    story.append(_p(
        f"检查结论：共检查 {len(r.template.items)} 项，符合 {counts['pass']} 项，"
        f"不符合 {counts['fail']} 项，不适用 {counts['na']} 项"
        + (f"，未检查 {counts[None]} 项。" if counts[None] else "。"),
        "body",
    ))
    for note in r.template.notes:
        story.append(_p(f"注：{note}", "small"))
    return story


def _basis_list(record: InspectionRecord) -> str:
    seen: list[str] = []
    for f in record.order_items():
        if f.item.basis not in seen:
            seen.append(f.item.basis)
    return "；".join(seen)


def _rectification_story(page: _Page) -> list:
    from reportlab.platypus import Spacer

    r = page.record
    rect = r.rectification
    if rect is None:
        raise InvalidInput(f"检查记录 {r.number} 没有不符合项，不需要责令改正通知书")
    party = r.party
    story = _heading(page, "责令改正通知书")
    story.append(_p(f"{party.get('name', '')}：", "base"))
    code = party.get("credit_code")
    if code:
        story.append(_p(f"（统一社会信用代码：{code}）", "small"))
    story.append(_p(
        f"经查，{_date_cn(r.started_at)}，本机关执法人员对你（单位）位于{party.get('address', '')}的经营场所进行现场检查，"
        "发现你（单位）存在以下问题：",
        "body",
    ))
    for n, f in enumerate(r.order_items(), 1):
        note = f"（{f.note.strip()}）" if f.note.strip() else ""
        story.append(_p(f"{n}. {f.item.fail_text}{note}。", "body"))
    story.append(_p(f"上述行为违反了{_basis_list(r)}的规定。", "body"))
    d = rect.deadline
    story.append(_p(
        f"依据《中华人民共和国行政处罚法》第二十八条第一款的规定，现责令你（单位）于{d.year}年{d.month}月{d.day}日前改正上述违法行为。"
        "改正要求如下：",
        "body",
    ))
    story += _paras(rect.requirements)
    story.append(_p(
        "逾期不改正的，本机关将依法处理。改正完成后请将改正情况书面报告本机关，本机关将进行复查。",
        "body",
    ))
    story.append(_p(
        "如不服本通知，可以在收到本通知书之日起六十日内依法申请行政复议，"
        "或者在六个月内依法向人民法院提起行政诉讼。",
        "body",
    ))
    story.append(Spacer(1, 18))
    story.append(_p(f"{page.organ}（印章）", "right"))
    story.append(_p(_date_cn(r.completed_at or r.started_at), "right"))
    story.append(Spacer(1, 8))
    story.append(_p("当事人签收：以上通知已收到。", "base"))
    return story


_STORIES = {"record": _record_story, "checklist": _checklist_story, "rectification": _rectification_story}


def _notice_box(lines: list[str]) -> list:
    """A boxed statement under the heading (a correction names the original and what it corrects)."""
    from reportlab.lib import colors
    from reportlab.platypus import Spacer, Table, TableStyle

    box = Table([[[_p(line, "cell") for line in lines]]], colWidths=["100%"])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1, colors.black),
                             ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
    return [box, Spacer(1, 6)]


def render_pdf(record: InspectionRecord, form: str, *, organ: str, notice: list[str] | None = None) -> bytes:
    """The form as PDF bytes; ``notice``: lines boxed under the heading (a correction's statement)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    if form not in _STORIES:
        raise InvalidInput(f"未知的文书类型“{form}”（可用：record、checklist、rectification）")
    page = _Page(record, form, form_number(record, form), make_payload(record, form), organ)
    story = _STORIES[form](page)
    if notice:
        story[3:3] = _notice_box(notice)  # after the heading: organ, title, number
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4,
        leftMargin=PAGE_MARGIN_MM * mm, rightMargin=PAGE_MARGIN_MM * mm,
        topMargin=30 * mm, bottomMargin=(FOOTER_MM + 2) * mm,
        initialFontName=FONT, title=f"{FORMS[form]} {page.number}", author=organ, creator="药械化现场检查",
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
    return render_pdf(record, form, organ=ctx.setting("organ_name"), notice=correction_notice(ctx, record.id))


def print_form(ctx: AppContext, id_or_number: str, form: str, out: Path) -> Path:
    """Render one form of an inspection to a PDF file."""
    pdf = render_form(ctx, load_inspection(ctx, id_or_number), form)
    write_atomically(Path(out), pdf)
    return Path(out)
