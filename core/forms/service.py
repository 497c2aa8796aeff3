"""送达回证 (范本 10): the document served, the recipient, how, where and when; for 留置送达 the
reason, the witness and the photo/video; the signatures are written on the printed original."""
from __future__ import annotations

from datetime import datetime

from core.forms.common import WET_DATE, WET_LINE, Page, date_cn, info_table


def service_story(page: Page) -> list:
    from reportlab.platypus import Spacer

    c = page.record.content
    doc, method = c["document"], c["method"]
    served = date_cn(datetime.fromisoformat(c["served_at"]), time=True)
    servers = "、".join(f"{n}（执法证号 {cert or '无'}）" for n, cert in c.get("servers", []))
    rows = [
        ("送达文书名称及文号", f"{doc['name']}（{doc['number']}）"),
        ("受送达人", c["recipient"] + (f"（{c['party']}）" if c.get("party") and c["party"] != c["recipient"] else "")),
        ("送达地点", c["place"]),
        ("送达方式", method, "送达时间", served),
    ]
    if method == "邮寄送达":
        rows.append(("邮件号码", c["mail_no"]))
    if method == "留置送达":
        rows += [
            ("受送达人签名或盖章", f"受送达人拒绝签收。理由：{c['refusal_reason']}"),
            ("见证人", f"{c['witness_name']}（{c['witness_unit']}）", "见证人签名", f"{WET_LINE}　{WET_DATE}"),
            ("留置情况", "送达人已将文书留置于受送达人的住所（经营场所），依照《中华人民共和国民事诉讼法》有关留置送达的"
                        f"规定，视为送达。拍照、录像记录：{c['media_ref']}"),
        ]
    elif method == "直接送达" or method == "委托送达":
        rows.append(("受送达人签名或盖章", f"{WET_LINE}　　{WET_DATE}"))
    rows += [("送达人", servers), ("送达人签名", f"{WET_LINE}　{WET_LINE}　　{WET_DATE}")]
    if c.get("note"):
        rows.append(("备注", c["note"]))
    story = [page.p(page.organ, "organ"), page.p(page.title, "title"), page.p(page.number, "number"),
             info_table(page, rows), Spacer(1, 10),
             page.p("说明：受送达人拒绝签收的，送达人可以邀请有关基层组织或者所在单位的代表到场作见证，说明情况，"
                    "在送达回证上记明拒收事由和日期，由送达人、见证人签名，把文书留在受送达人的住所；"
                    "也可以把文书留在受送达人的住所，并采用拍照、录像等方式记录送达过程，即视为送达。", "small")]
    return story
