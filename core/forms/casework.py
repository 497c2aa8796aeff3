"""The case papers (``core.casework``): 案件来源登记表 (范本 1), 立案审批表 (范本 7),
先行登记保存证据通知书 (范本 19) and its 解除, 送达地址确认书 (范本 10). Signed on paper:
blank lines where a 承办人, the 所长 or the party writes, filled where the app recorded it."""
from __future__ import annotations

from datetime import date, datetime

from core.forms.common import WET_DATE, WET_LINE, Page, date_cn, info_table, items_table


def _when(text: str | None) -> str:
    if not text:
        return WET_DATE
    value = datetime.fromisoformat(text) if "T" in text else datetime.combine(date.fromisoformat(text), datetime.min.time())
    return date_cn(value)


def _party_rows(party: dict) -> list:
    return [("当事人", party.get("name", "")),
            ("统一社会信用代码", party.get("credit_code", "") or "—", "法定代表人（负责人）", party.get("legal_rep", "") or "—"),
            ("住所（经营场所）", party.get("address", "")),
            ("联系电话", party.get("phone", "") or "—")]


def _officers(content: dict) -> str:
    return "、".join(f"{n}（执法证号 {c or '无'}）" for n, c in content.get("officers", []))


def _head(page: Page) -> list:
    return [page.p(page.organ, "organ"), page.p(page.title, "title"), page.p(page.number, "number")]


def _decision(entry: dict | None, who: str) -> str:
    if not entry:
        return f"{WET_LINE}\n{who}签名：{WET_LINE}　{WET_DATE}"
    return f"{entry['opinion']}\n{who}：{entry['by']}　{_when(entry['at'])}"


def case_source_story(page: Page) -> list:
    c = page.record.content
    rows = [("案件来源", c.get("source", "")), ("来源编号", c.get("source_ref", "")),
            ("发现（登记）时间", _when(c.get("found_at"))), *_party_rows(c.get("party", {})),
            ("案件来源及主要内容", c.get("summary", "")),
            ("登记人", f"{_officers(c)}\n签名：{WET_LINE}　{WET_LINE}　{WET_DATE}"),
            ("负责人意见", _decision(c.get("decision"), "负责人"))]
    return [*_head(page), info_table(page, rows)]


def case_filing_story(page: Page) -> list:
    from reportlab.platypus import Spacer

    c = page.record.content
    story = _head(page)
    basis = (f"上述行为涉嫌违反了{c['violated']}的规定。" if c.get("violated") else "")
    rows = [("案由", c.get("cause", "")), *_party_rows(c.get("party", {})),
            ("案件来源", f"案件来源登记表 {c.get('source_number', '')}" +
             (f"；责令改正通知书 {c['original_order']}（现场检查笔录 {c.get('original_record', '')}），"
              f"复查 {c.get('reinspection', '')} 未整改到位" if c.get("original_order") else "")),
            ("简要案情及立案依据", f"{c.get('facts', '')}{basis}建议依据{c.get('penalty', '')}立案调查。")]
    story.append(info_table(page, rows))
    if c.get("items"):
        story += [Spacer(1, 6), page.p("涉嫌违法事项", "head")]
        data = [[str(n), i["code"], i["fact"] + (f"（复查：{i['still']}）" if i.get("still") else ""), i["basis"],
                 i["penalty_basis"]] for n, i in enumerate(c["items"], 1)]
        story.append(items_table(page, ["序号", "项目", "违法事实", "涉嫌违反", "建议处罚依据"], data,
                                 widths=(10, 14, 60, 45, 45), center_cols=(0, 1)))
    story += [Spacer(1, 6), page.p("证据材料", "head")]
    story += [page.p(f"{n}. {e}", "base") for n, e in enumerate(c.get("evidence", []), 1)]
    submitted = c.get("submitted")
    handler = (f"{c.get('handler_opinion') or WET_LINE}\n承办人：{_officers(c)}\n签名：{WET_LINE}　{WET_LINE}　"
               + (_when(submitted["at"]) if submitted else WET_DATE))
    returns = "；".join(f"{r['at'][:10]} {r['by']}退回：{r['opinion']}" for r in c.get("returns", []))
    tail = [("承办人意见", handler), ("负责人审批意见", _decision(c.get("approval"), "负责人（所长）"))]
    if returns:
        tail.append(("退回记录", returns))
    story += [Spacer(1, 6), info_table(page, tail)]
    return story


def evidence_hold_story(page: Page) -> list:
    from reportlab.platypus import Spacer

    c = page.record.content
    party = c.get("party", {})
    story = [*_head(page), page.p(f"{party.get('name', '')}：", "base")]
    story.append(page.p(
        f"你（单位）涉嫌{c.get('cause', '')}。因证据可能灭失或者以后难以取得，依据《中华人民共和国行政处罚法》"
        f"第五十六条的规定，经本机关负责人{('（' + c['approved_by'] + '）') if c.get('approved_by') else ''}批准，决定对你（单位）的下列物品予以先行登记保存，保存期限为"
        f"{_when(c.get('from'))}至{_when(c.get('until'))}（七日内作出处理决定）。保存地点：{c.get('place', '')}；"
        f"保存方式：{c.get('keeping', '')}。", "body"))
    data = [[str(n), i["name"], i.get("spec", ""), i.get("batch", ""), i.get("quantity", ""), i.get("kept_at", "")]
            for n, i in enumerate(c.get("items", []), 1)]
    story.append(items_table(page, ["序号", "物品名称", "规格", "批号（生产日期）", "数量", "存放地点"], data,
                             widths=(10, 44, 28, 32, 22, 38), center_cols=(0,)))
    story += [Spacer(1, 6), page.p(
        "在先行登记保存期间，你（单位）或者有关人员不得损毁、销毁或者转移证据。本机关将在七日内作出处理决定；"
        "逾期未作出处理决定的，先行登记保存措施自动解除。", "body"),
        page.p(f"经办执法人员：{_officers(c)}", "base"),
        page.p(f"当事人签名：{WET_LINE}　{WET_DATE}　　执法人员签名：{WET_LINE}　{WET_LINE}　{WET_DATE}", "base"),
        Spacer(1, 10), page.p(f"{page.organ}（印章）", "right"), page.p(_when(c.get("from")), "right")]
    return story


def evidence_release_story(page: Page) -> list:
    from reportlab.platypus import Spacer

    c = page.record.content
    party = c.get("party", {})
    story = [*_head(page), page.p(f"{party.get('name', '')}：", "base")]
    story.append(page.p(
        f"本机关于{_when(c.get('held_from'))}以先行登记保存证据通知书（{c.get('hold_number', '')}）对你（单位）的"
        f"下列物品予以先行登记保存。{c.get('reason', '')}，本机关决定自{_when(c.get('released_at'))}起解除先行登记保存。",
        "body"))
    data = [[str(n), i["name"], i.get("spec", ""), i.get("batch", ""), i.get("quantity", "")]
            for n, i in enumerate(c.get("items", []), 1)]
    story.append(items_table(page, ["序号", "物品名称", "规格", "批号（生产日期）", "数量"], data,
                             widths=(10, 60, 34, 40, 30), center_cols=(0,)))
    story += [Spacer(1, 6), page.p(f"经办执法人员：{_officers(c)}", "base"),
              page.p(f"当事人签收：{WET_LINE}　{WET_DATE}　　执法人员签名：{WET_LINE}　{WET_LINE}　{WET_DATE}", "base"),
              Spacer(1, 10), page.p(f"{page.organ}（印章）", "right"), page.p(_when(c.get("released_at")), "right")]
    return story


def address_confirm_story(page: Page) -> list:
    from reportlab.platypus import Spacer

    c = page.record.content
    rows = [("受送达人", c.get("recipient", "")), ("案由（事项）", c.get("matter", "")),
            ("送达地址", c.get("address", "")), ("邮政编码", c.get("postcode", "") or "—", "联系电话", c.get("phone", "")),
            ("收件人", c.get("addressee", "") or c.get("recipient", "")),
            ("是否同意电子送达", ("同意，电子送达方式：" + c["electronic"]) if c.get("electronic") else "不同意"),
            ("受送达人确认", f"以上送达地址真实有效，地址变更时将及时书面告知。\n受送达人签名（盖章）：{WET_LINE}　{WET_DATE}"),
            ("告知事项", "1. 受送达人提供的送达地址，适用于本事项各环节的文书送达；2. 因提供的地址不准确、"
                        "变更未及时告知、受送达人本人或者指定的收件人拒绝签收，导致文书未能被实际接收的，"
                        "文书退回之日视为送达之日；3. 经受送达人同意，可以采用电子送达。"),
            ("送达人", f"{_officers(c)}\n签名：{WET_LINE}　{WET_LINE}　{WET_DATE}")]
    return [*_head(page), info_table(page, rows), Spacer(1, 6)]


CASE_STORIES = {"case_source": case_source_story, "case_filing": case_filing_story,
                "evidence_hold": evidence_hold_story, "evidence_release": evidence_release_story,
                "address_confirm": address_confirm_story}
