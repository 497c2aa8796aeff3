"""整改复查意见书: printed from a re-inspection record, citing the original 责令改正通知书."""
from __future__ import annotations

from datetime import date

from core.errors import InvalidInput
from core.forms.common import WET_DATE, WET_LINE, Page, date_cn, items_table, signature_block
from core.inspections import officer_role


def review_story(page: Page) -> list:
    from reportlab.platypus import KeepTogether, Spacer

    r, original = page.record, page.settings.get("original")
    if not original:
        raise InvalidInput(f"检查记录 {r.number} 不是整改复查，没有整改复查意见书")
    party = r.party
    deadline = date.fromisoformat(original["deadline"])
    story = [page.p(page.organ, "organ"), page.p(page.title, "title"), page.p(page.number, "number"),
             page.p(f"{party.get('name', '')}：", "base")]
    story.append(page.p(
        f"本机关于{date_cn(deadline)}前责令你（单位）改正的违法行为（责令改正通知书 {original['number']}，"
        f"见现场检查笔录 {original['record_number']}），执法人员于{date_cn(r.started_at)}进行了复查"
        f"（复查记录 {r.number}）。复查情况如下：", "body"))
    rows = [[str(n), i["code"], i["fact"], i["outcome"] + (f"（{i['note']}）" if i["note"] else "")]
            for n, i in enumerate(original["items"], 1)]
    story.append(items_table(page, ["序号", "项目", "责令改正的事项", "复查结果"], rows, widths=(12, 18, 90, 54),
                             center_cols=(0, 1)))
    story.append(Spacer(1, 6))
    conclusion = original["conclusion"]
    story.append(page.p(f"复查结论：{'■' if conclusion == '整改到位' else '□'}整改到位　"
                        f"{'■' if conclusion == '未整改到位' else '□'}未整改到位", "head"))
    if conclusion == "整改到位":
        follows = f"经复查，你（单位）已按责令改正通知书 {original['number']} 的要求改正，本次责令改正事项办结。"
    else:
        follows = (f"经复查，你（单位）未按责令改正通知书 {original['number']} 的要求在期限内改正。"
                   "本机关将依法立案调查处理（立案建议）。")
    story.append(page.p(follows, "body"))
    story.append(Spacer(1, 12))
    story.append(page.p(f"{page.organ}（印章）", "right"))
    story.append(page.p(date_cn(r.completed_at or r.started_at), "right"))
    story.append(Spacer(1, 8))
    story.append(KeepTogether([
        page.p(f"当事人签收：{WET_LINE}　{WET_DATE}", "base"),  # on the paper it is handed over on
        signature_block(page, "执法人员签名", [r.signatures.get(officer_role(i)) for i in range(len(r.officers))],
                        count=len(r.officers)),
    ]))
    return story
