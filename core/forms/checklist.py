"""检查记录表: printed as 附件1 of the 现场检查笔录, numbered "<笔录号>附件1", with the overall
result, 处理措施, the party's opinion, and the failed items' photos as thumbnails."""
from __future__ import annotations

from io import BytesIO

from core.attachments import load
from core.errors import DomainError
from core.forms.common import Page, date_cn, info_table, items_table, officers_text, party_rows, signature_block
from core.inspections import PARTY_ROLE, WITNESS_ROLE, InspectionRecord, can_enforce, fact_text, officer_role

ATTACHMENT = "附件1"


def attachment_number(record: InspectionRecord) -> str:
    return f"{record.number}{ATTACHMENT}"


def counts(record: InspectionRecord) -> dict:
    """符合 / 不符合 / 不适用 / 未检查, counted from the answers themselves."""
    result = {"pass": 0, "fail": 0, "na": 0, None: 0}
    for item in record.template.items:
        answer = record.answer(item.code).result
        result[answer if answer in result else None] += 1
    return result


def overall(record: InspectionRecord) -> str:
    ordered = [f for f in record.failed_items() if not f.item.advisory]
    return "不符合" if ordered else "符合"


def measures(record: InspectionRecord) -> str:
    """The 处理措施: what the inspector wrote, else what the record itself says was done."""
    written = record.legal.get("measures")
    if written:
        return written
    lines = []
    if record.rectification is not None and can_enforce(record):
        d = record.rectification.deadline
        lines.append(f"当场出具责令改正通知书（{record.rectification.number}），责令于{d.year}年{d.month}月{d.day}日前改正。")
    if any(f.item.penalty_likely for f in record.order_items()):
        lines.append("对涉嫌违法行为另行依法处理。")
    if any(f.item.advisory for f in record.failed_items()):
        lines.append("对地方工作要求项提出指导建议。")
    if record.failed_items() and not can_enforce(record):
        lines.append("本次为巡查，发现的问题报请另行安排两名以上执法人员依法检查。")
    return "\n".join(lines) or "未发现不符合项，无需处理。"


def checklist_story(page: Page) -> list:
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

    r = page.record
    story = [page.p(page.organ, "organ"), page.p(page.title, "title"),
             page.p(f"{page.number}（现场检查笔录 {r.number} 的{ATTACHMENT}）", "number")]
    story.append(info_table(page, [
        *party_rows(r, full=False),
        ("检查时间", date_cn(r.started_at, time=True), "检查地点", r.place),
        ("执法人员", officers_text(r)),
    ]))
    story.append(Spacer(1, 6))
    header = ["检查项目", "序号", "检查内容", "符合", "不符合", "不适用", "说明"]
    data = [[page.p(h, "th") for h in header]]
    style = [  # the section column is boxed per section, not spanned: a span cannot break across pages
        ("GRID", (1, 0), (-1, -1), 0.5, colors.black),
        ("BOX", (0, 0), (0, 0), 0.5, colors.black),
        ("FONTNAME", (0, 0), (-1, -1), page.kit.font),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("VALIGN", (0, 1), (0, -1), "TOP"),
        ("ALIGN", (3, 0), (5, -1), "CENTER"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
    ]
    failed = {f.item.code: f for f in r.failed_items()}
    for section in r.template.sections:
        first = len(data)
        for item in section.items:
            answer = r.answer(item.code)
            marks = ["√" if answer.result == key else "" for key in ("pass", "fail", "na")]
            photos = len(r.photos_of(item.code))
            note = (fact_text(r, failed[item.code]) + "。" if item.code in failed else "") + answer.note
            note += f"（照片{photos}张，见附页）" if photos else ""
            data.append([
                page.p(f"{section.group}·{section.title}" if section.group else section.title, "cell")
                if len(data) == first else "",
                page.p(item.code, "cell"), page.p(item.text, "cell"), *marks, page.p(note, "cell"),
            ])
        if len(data) > first:
            style.append(("BOX", (0, first), (0, len(data) - 1), 0.5, colors.black))
    table = Table(data, colWidths=[26 * mm, 10 * mm, 64 * mm, 11 * mm, 14 * mm, 14 * mm, 35 * mm], repeatRows=1)
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 6)]
    c = counts(r)
    story.append(page.p(
        f"检查结论：共检查 {len(r.template.items)} 项，符合 {c['pass']} 项，不符合 {c['fail']} 项，不适用 {c['na']} 项"
        + (f"，未检查 {c[None]} 项。" if c[None] else "。"), "body"))
    for note in r.template.notes:
        story.append(page.p(f"注：{note}", "small"))
    story.append(KeepTogether(_result_block(page)))
    story += _photo_appendix(page)
    return story


def _result_block(page: Page) -> list:
    r = page.record
    result = overall(r)
    marks = "　".join(f"{'■' if label == result else '□'}{label}" for label in ("符合", "不符合"))
    story = [page.p("检查结果", "head"), page.p(marks, "body"), page.p("处理措施", "head"), *page.paras(measures(r)),
             page.p("当事人意见", "head")]
    opinion = r.legal.get("checklist_opinion")
    if opinion and not page.wet:
        story.append(page.p(opinion, "body"))
    else:
        story.append(page.p("＿" * 38, "body"))
    if r.party_refused or r.legal.get("party_absent"):
        what = "拒绝签字" if r.party_refused else "不在场"
        story.append(page.p(f"当事人{what}，见证人：{r.witness_name}", "body"))
        story.append(signature_block(page, "见证人签名", [r.signatures.get(WITNESS_ROLE)], count=1))
    else:
        story.append(signature_block(page, "当事人签名", [r.signatures.get(PARTY_ROLE)], count=1, fingerprint=page.wet))
    officers = [r.signatures.get(officer_role(i)) for i in range(len(r.officers))]
    story.append(signature_block(page, "执法人员签名", officers, count=len(r.officers)))
    return story


def _photo_appendix(page: Page) -> list:
    """附页: each failed item's photos as thumbnails, 3 a row, captioned with the item."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, PageBreak, Table, TableStyle

    r = page.record
    cells = []
    for f in r.failed_items():
        for n, photo in enumerate(r.photos_of(f.item.code), 1):
            caption = page.p(f"{f.item.code} 照片{n}：{fact_text(r, f)}", "small")
            try:  # decrypted in memory: no plain copy of the photo on disk
                image = Image(BytesIO(load(photo.path, page.file_key)), width=52 * mm, height=39 * mm,
                              kind="proportional")
            except (DomainError, OSError):
                image = page.p("（照片文件缺失或无法读取）", "small")
            cells.append([image, caption])
    if not cells:
        return []
    rows = [[c for c in cells[i:i + 3]] for i in range(0, len(cells), 3)]
    data = [[Table([[c[0]], [c[1]]], colWidths=[56 * mm]) for c in row] + [""] * (3 - len(row)) for row in rows]
    table = Table(data, colWidths=[58 * mm] * 3)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), page.kit.font)]))
    return [PageBreak(), page.p("附页：不符合项照片", "head"), table]
