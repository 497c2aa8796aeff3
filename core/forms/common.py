"""What the three forms share: the page, the party's identity, tables, citations grouped by law,
signature cells with their dates (drawn, refused, or blank lines for wet signatures)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
import re
from types import SimpleNamespace

from core.inspections import InspectionRecord, SignatureRow, can_enforce

# The usual words of the 范本 for the receipt and confirmation lines a party writes by hand.
WET_LINE = "＿＿＿＿＿＿＿＿"
WET_DATE = "　　年　　月　　日"


@dataclass(frozen=True)
class Page:
    """One document being printed: the record, what every page repeats, the station's settings
    (复议机关, time limits) and the typesetting kit (``p``, ``paras``, ``font``)."""

    record: InspectionRecord
    form: str
    number: str
    payload: str
    organ: str
    kit: SimpleNamespace
    settings: dict = field(default_factory=dict)
    file_key: bytes | None = None  # the attachments' key (core.attachments): photos are read through it

    @property
    def wet(self) -> bool:
        """Printed with blank lines for handwritten signatures."""
        return bool(self.record.legal.get("wet"))

    @property
    def title(self) -> str:
        return form_title(self.record, self.form)

    def p(self, text: str, style: str = "base"):
        return self.kit.p(text, style)

    def paras(self, text: str, style: str = "body") -> list:
        return self.kit.paras(text, style)


def form_title(record: InspectionRecord, form: str) -> str:
    if form == "record":
        return "现场检查笔录" if can_enforce(record) else "巡查记录"
    if form == "checklist":
        return record.template.title
    if form == "questioning":
        return "询问笔录"
    if form == "service":
        return "送达回证"
    if form == "review":
        return "整改复查意见书"
    if form == getattr(record, "kind", None):  # a case paper (core.casework) knows its title
        return record.title
    return "责令改正通知书"


def date_cn(value: datetime | None, *, time: bool = False) -> str:
    if value is None:
        return WET_DATE
    text = f"{value.year}年{value.month}月{value.day}日"
    return text + (f" {value.hour:02d}时{value.minute:02d}分" if time else "")


_DIGITS = "零一二三四五六七八九"


def number_cn(n: int) -> str:
    """60 → 六十, 6 → 六, 180 → 一百八十 (0 < n < 1000), as the forms write time limits."""
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    text = f"{_DIGITS[hundreds]}百" if hundreds else ""
    if tens:
        text += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    elif hundreds and ones:
        text += "零"
    return text + (_DIGITS[ones] if ones else "")


def group_by_law(citations: list[str]) -> str:
    """Citations like "《A》第三条、第八条；《B》第四十条" joined so each law is named once,
    its articles after it in first-seen order, each article once."""
    laws: dict[str, list[str]] = {}
    for citation in citations:
        for segment in filter(None, (s.strip() for s in re.split(r"[；;]", citation))):
            match = re.match(r"(参照)?(《[^》]+》)(.*)", segment)
            if not match:
                laws.setdefault(segment, [])
                continue
            law = (match.group(1) or "") + match.group(2)
            articles = laws.setdefault(law, [])
            for article in filter(None, (a.strip() for a in re.split(r"[、，,]", match.group(3)))):
                if article not in articles:
                    articles.append(article)
    return "，".join(law + "、".join(sorted(articles, key=_article_number)) for law, articles in laws.items())


_NUMERALS = {ch: n for n, ch in enumerate("零一二三四五六七八九")}


def _article_number(article: str) -> int:
    """第三十八条第一款 → 38: articles print in the law's order (a stable sort keeps 款 as seen)."""
    match = re.match(r"第([零一二三四五六七八九十百]+)条", article)
    if not match:
        return 10_000
    total, digit = 0, 0
    for ch in match.group(1):
        if ch in "十百":
            total += (digit or 1) * (10 if ch == "十" else 100)
            digit = 0
        else:
            digit = _NUMERALS[ch]
    return total + digit


def individual_business(record: InspectionRecord) -> bool:
    """A 个体工商户: 统一社会信用代码 92… (GB 32100: 9 市场监管, 2 个体工商户) or the category."""
    code = record.party.get("credit_code") or ""
    return code.startswith("92") or "个体" in record.party.get("category", "")


def party_rows(record: InspectionRecord, *, full: bool = True) -> list:
    party = record.party
    holds = [f"{label}：{party[key]}" for key, label in (("licence_no", "许可证编号"), ("filing_no", "备案编号"))
             if party.get(key)]
    rows = [
        ("当事人", party.get("name", "")),
        ("统一社会信用代码", party.get("credit_code") or "（无）", "类别", party.get("category", "")),
        ("许可证 / 备案编号", "；".join(holds) or "（未持有或未登记）"),
        ("住所（地址）", party.get("address", "")),
    ]
    if full:
        rep = "经营者" if individual_business(record) else "法定代表人（负责人）"
        rows.append((rep, party.get("legal_rep", ""), "联系电话", party.get("phone", "")))
    return rows


def officers_text(record: InspectionRecord) -> str:
    return "、".join(f"{o.name}（执法证号 {o.cert_no or '无'}）" for o in record.officers) or "（未填写）"


def heading(page: Page, number: str | None = None) -> list:
    return [page.p(page.organ, "organ"), page.p(page.title, "title"), page.p(number or page.number, "number")]


def info_table(page: Page, rows: list):
    """Label/value grid as on the official forms: 4 columns, or a row spanning 3."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    label = colors.HexColor("#f2f2f2")
    data, cell_styles = [], []
    for r, row in enumerate(rows):
        if len(row) == 2:
            data.append([page.p(row[0], "label"), page.p(row[1], "cell"), "", ""])
            cell_styles.append(("SPAN", (1, r), (3, r)))
        else:
            data.append([page.p(row[0], "label"), page.p(row[1], "cell"), page.p(row[2], "label"), page.p(row[3], "cell")])
            cell_styles.append(("BACKGROUND", (2, r), (2, r), label))
    table = Table(data, colWidths=[34 * mm, 53 * mm, 30 * mm, 57 * mm])
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("FONTNAME", (0, 0), (-1, -1), page.kit.font),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (0, -1), label),
        *cell_styles,
    ]))
    return table


def items_table(page: Page, header: list[str], rows: list[list], *, widths: tuple[float, ...], center_cols=(0,)):
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    cell = (lambda c: page.p(c, "cell") if isinstance(c, str) else c)
    data = [[page.p(h, "th") for h in header]] + [[cell(c) for c in row] for row in rows]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("FONTNAME", (0, 0), (-1, -1), page.kit.font),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
    ]
    style += [("ALIGN", (c, 0), (c, -1), "CENTER") for c in center_cols]
    table.setStyle(TableStyle(style))
    return table


# printed in place of a signature whose image file is missing or does not match its hash
SIGNATURE_UNREADABLE = "（签名图像文件缺失或无法读取）"


def signature_image(signature: SignatureRow | None, *, width_mm: float = 26, height_mm: float = 10):
    """The drawn signature as a flowable, or None."""
    if signature is None or not signature.png:
        return None
    from reportlab.lib.units import mm
    from reportlab.platypus import Image

    image = Image(BytesIO(signature.png), width=width_mm * mm, height=height_mm * mm, kind="proportional")
    image.hAlign = "LEFT"
    return image


def signature_block(page: Page, label: str, signatures: list[SignatureRow | None], *, fingerprint: bool = False,
                    count: int | None = None):
    """"<label>：[signature] [signature]  <date>" as a one-row table. Wet or unsigned: blank lines
    and a blank date (and a fingerprint box where the party presses one)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Table, TableStyle

    count = count if count is not None else len(signatures)
    drawn = [signature_image(s) or (page.p(SIGNATURE_UNREADABLE, "small") if s is not None and s.problem else None)
             for s in signatures] if not page.wet else []
    drawn = [d for d in drawn if d is not None]
    if drawn and len(drawn) == count:
        dates = sorted({date_cn(s.signed_at) for s in signatures if s is not None and s.signed_at})
        cells = [page.p(f"{label}：", "base"), *drawn, page.p("　".join(dates) or WET_DATE, "base")]
        widths = [34 * mm, *([28 * mm] * len(drawn)), None]
    else:
        cells = [page.p(f"{label}：", "base"), *[page.p(WET_LINE, "base") for _ in range(max(count, 1))],
                 page.p(WET_DATE + ("　（捺印）" if fingerprint else ""), "base")]
        widths = [34 * mm, *([30 * mm] * max(count, 1)), None]
    table = Table([cells], colWidths=widths, hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (-1, -1), 1),
                               ("FONTNAME", (0, 0), (-1, -1), page.kit.font)]))
    return table
