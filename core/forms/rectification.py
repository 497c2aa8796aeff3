"""责令改正通知书 (范本: 责令改正通知书)."""
from __future__ import annotations

from core.errors import InvalidInput
from core.forms.common import Page, date_cn, group_by_law, number_cn, signature_block
from core.forms.record import witness_text
from core.inspections import ORDER_ROLE, WITNESS_ROLE, InspectionRecord, enforcement_problems, fact_text

# What an order printed from a record whose template names no authorising provision (format 1)
# cited; kept so an old record reprints as it was issued.
LEGACY_AUTHORITY = "《中华人民共和国行政处罚法》第二十八条第一款"


def breached(record: InspectionRecord) -> str:
    """The duty provisions the ordered items breach, each law named once."""
    return group_by_law([f.item.basis for f in record.order_items()])


def authority(record: InspectionRecord) -> str:
    """The provisions that authorise this order (per item, else the checklist's), by law."""
    found = [record.template.authority_of(f.item) for f in record.order_items()]
    found = [a for a in found if a]
    return group_by_law(found) if found else LEGACY_AUTHORITY


def check_can_order(record: InspectionRecord) -> None:
    if record.rectification is None:  # form_number has said why (no failed item, or one officer)
        raise InvalidInput(f"检查记录 {record.number} 没有不符合项，不需要责令改正通知书")
    problems = enforcement_problems(record)
    if problems:
        raise InvalidInput(
            f"检查记录 {record.number} 不能出具责令改正通知书：{'；'.join(problems)}。"
            "执法检查须由两名以上持有执法证件的执法人员进行（《化妆品监督管理条例》第四十七条、"
            "《医疗器械经营监督管理办法》第四十九条、《中华人民共和国行政处罚法》第四十二条），"
            "本次检查只能作为巡查记录打印"
        )


def rectification_story(page: Page) -> list:
    from reportlab.platypus import KeepTogether, Spacer

    r = page.record
    check_can_order(r)
    rect, party, legal, settings = r.rectification, r.party, r.legal, page.settings
    story = [page.p(page.organ, "organ"), page.p(page.title, "title"), page.p(page.number, "number")]
    story.append(page.p(f"{party.get('name', '')}：", "base"))
    if party.get("credit_code"):
        story.append(page.p(f"（统一社会信用代码：{party['credit_code']}）", "small"))
    story.append(page.p(
        f"经查，{date_cn(r.started_at)}，本机关执法人员对你（单位）位于{party.get('address', '')}的经营场所进行现场检查，"
        f"发现你（单位）存在以下问题（见现场检查笔录 {r.number}）：", "body"))
    for n, f in enumerate(r.order_items(), 1):
        note = f"（{f.note.strip()}）" if f.note.strip() else ""
        story.append(page.p(f"{n}. {fact_text(r, f)}{note}。", "body"))
    story.append(page.p(f"上述行为违反了{breached(r)}的规定。", "body"))
    d = rect.deadline
    story.append(page.p(
        f"依据{authority(r)}的规定，现责令你（单位）于{d.year}年{d.month}月{d.day}日前改正上述违法行为。改正要求如下：",
        "body"))
    story += page.paras(rect.requirements)
    story.append(page.p("逾期不改正的，本机关将依法处理。改正完成后请将改正情况书面报告本机关，本机关将进行复查。", "body"))
    if any(f.item.penalty_likely for f in r.order_items()):
        story.append(page.p("对你（单位）涉嫌违法行为，本机关将另行依法处理。", "body"))
    review_days = int(settings.get("review_days", 60))
    months = int(settings.get("lawsuit_months", 6))
    story.append(page.p(
        f"如不服本通知，可以在收到本通知书之日起{number_cn(review_days)}日内向{settings.get('review_organ') or '（复议机关）'}"
        f"申请行政复议，或者在{number_cn(months)}个月内依法向{settings.get('court') or '人民法院'}提起行政诉讼。", "body"))
    story.append(Spacer(1, 14))
    story.append(page.p(f"{page.organ}（印章）", "right"))
    story.append(page.p(date_cn(r.completed_at or r.started_at), "right"))
    story.append(Spacer(1, 8))
    story.append(KeepTogether(_receipt(page)))
    return story


def _receipt(page: Page) -> list:
    """The party's own receipt of this notice: signed, refused (with the witness), or absent."""
    r, legal = page.record, page.record.legal
    if legal.get("party_absent"):
        return [page.p("当事人不在场，本通知书依法另行送达。", "base")]
    if legal.get("order_refused"):
        return [
            page.p(f"当事人拒绝签收本通知书，理由：{legal.get('order_refusal_reason') or '（未说明）'}。"
                   f"见证人：{witness_text(r)}。", "base"),
            signature_block(page, "见证人签名", [r.signatures.get(WITNESS_ROLE)], count=1),
        ]
    return [
        page.p("当事人签收：以上通知已收到。", "base"),
        signature_block(page, "当事人签名", [r.signatures.get(ORDER_ROLE)], count=1, fingerprint=page.wet),
    ]
