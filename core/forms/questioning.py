"""询问笔录 (范本 14): the person asked, time and place, the officers, 告知, the questions and
answers, the confirmation and the signatures. The person asked also signs every page's
footer (``core.printing``)."""
from __future__ import annotations

from datetime import datetime

from core.forms.common import Page, date_cn, info_table, signature_block

PERSON_ROLE = "person"  # as core.questioning
NOTICE = ("我们是{organ}的执法人员{officers}，这是我们的执法证件（出示执法证件）。现依法就有关问题进行调查询问，"
          "请你如实回答，并协助调查；作虚假陈述或者阻碍调查的，将承担相应的法律责任。你有权进行陈述和申辩；"
          "执法人员少于两人或者与你有直接利害关系的，你有权申请回避。")


def _when(text: str | None) -> str:
    if not text:
        return "　　年　　月　　日　　时　　分"
    return date_cn(datetime.fromisoformat(text), time=True)


def questioning_story(page: Page) -> list:
    from reportlab.platypus import KeepTogether, Spacer

    r = page.record
    person, details = r.person, r.details
    story = [page.p(page.organ, "organ"), page.p(page.title, "title"), page.p(page.number, "number")]
    started, ended = _when(details.get("started_at")), _when(details.get("ended_at"))
    officers = r.officers
    cert = lambda i: (officers[i].name, officers[i].cert_no or "（无）") if i < len(officers) else ("", "")  # noqa: E731
    rows = [
        ("询问时间", f"{started} 至 {ended}"),
        ("询问地点", details.get("place", "")),
        ("询问人", f"{cert(0)[0]}", "执法证号", cert(0)[1]),
        ("询问人", f"{cert(1)[0]}", "执法证号", cert(1)[1]),
        *[("询问人", o.name, "执法证号", o.cert_no or "（无）") for o in officers[2:]],
        ("记录人", details.get("recorder", "")),
        ("被询问人", person.get("name", ""), "性别", person.get("sex", "")),
        ("身份证件号码", person.get("id_no", ""), "联系电话", person.get("phone", "")),
        ("工作单位", person.get("unit", ""), "职务", person.get("position", "")),
        ("住址", person.get("address", "")),
        ("与当事人关系", person.get("relation", "")),
    ]
    if r.party.get("name"):
        rows.insert(2, ("当事人", r.party["name"] + (f"（统一社会信用代码：{r.party['credit_code']}）"
                                                   if r.party.get("credit_code") else "")))
    if r.inspection_number:
        rows.append(("关联文书", f"现场检查笔录 {r.inspection_number}"))
    story.append(info_table(page, rows))
    story.append(Spacer(1, 6))
    names = "、".join(o.name for o in officers)
    story.append(page.p("告知事项", "head"))
    story.append(page.p("问：" + NOTICE.format(organ=page.organ, officers=names), "body"))
    story.append(page.p(f"问：你是否看清了我们的执法证件？答：{details.get('notice_answer') or '＿＿＿＿'}", "body"))
    story.append(page.p(f"问：你是否申请执法人员回避？答：{details.get('recusal_answer') or '＿＿＿＿'}", "body"))
    story.append(page.p("询问内容", "head"))
    for item in r.qa:
        story.append(page.p(f"问：{item['q']}", "body"))
        story += page.paras("答：" + (item.get("a") or "（未回答）"))
    story.append(page.p("（以下空白）", "base"))
    story.append(Spacer(1, 8))
    confirmation = details.get("confirmation", "").strip()
    closing = [page.p("被询问人意见：" + (confirmation or "（由被询问人阅读笔录后亲笔书写）＿＿＿＿＿＿＿＿＿＿＿＿"), "base"),
               signature_block(page, "被询问人签名", [r.signatures.get(PERSON_ROLE)], count=1, fingerprint=True),
               signature_block(page, "询问人签名", [r.signatures.get(f"officer{i + 1}") for i in range(len(officers))],
                               count=len(officers))]
    recorder = details.get("recorder", "")
    closing.append(page.p(f"记录人：{recorder}", "base"))
    story.append(KeepTogether(closing))
    return story
