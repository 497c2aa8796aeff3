"""现场检查笔录 (范本: 现场笔录), or 巡查记录 for a visit that cannot produce enforcement documents."""
from __future__ import annotations

from core.forms.common import (
    Page,
    date_cn,
    individual_business,
    info_table,
    items_table,
    officers_text,
    party_rows,
    signature_block,
)
from core.inspections import (
    KIND_LABELS,
    PARTY_ROLE,
    WITNESS_ROLE,
    InspectionRecord,
    can_enforce,
    enforcement_problems,
    fact_text,
    officer_role,
)

ABSENT_BASIS = "《中华人民共和国行政强制法》第十八条"


def _time_text(r: InspectionRecord) -> str:
    end = r.ended_at
    return f"{date_cn(r.started_at, time=True)} 至 " + (
        f"{end.hour:02d}时{end.minute:02d}分" if end and end.date() == r.started_at.date() else date_cn(end, time=True)
    )


def _camera_text(r: InspectionRecord) -> str:
    device, recording = r.legal.get("camera_device", ""), r.legal.get("camera_file", "")
    if not device and not recording:
        return "（未记录）"
    return "；".join(t for t in (f"设备编号 {device}" if device else "", f"文件/时段 {recording}" if recording else "") if t)


def witness_text(r: InspectionRecord) -> str:
    legal = r.legal
    details = "，".join(t for t in (legal.get("witness_id", ""), f"联系电话 {legal['witness_phone']}"
                                   if legal.get("witness_phone") else "") if t)
    return f"{r.witness_name or '（未填写）'}" + (f"（{details}）" if details else "")


def record_story(page: Page) -> list:
    from reportlab.platypus import KeepTogether, Spacer

    r = page.record
    legal = r.legal
    story = [page.p(page.organ, "organ"), page.p(page.title, "title"), page.p(page.number, "number")]
    if not can_enforce(r):
        story.append(page.p(
            f"本次检查{'，'.join(enforcement_problems(r))}，依法只作为日常巡查记录，不作为行政执法文书，"
            "不据以责令改正。发现的问题应另行安排两名以上执法人员依法检查。", "small"))
    present = r.party_present_name or "（未填写）"
    if legal.get("party_id_no"):
        present += f"（身份证件号码 {legal['party_id_no']}）"
    story.append(info_table(page, [
        ("检查时间", _time_text(r)),
        ("检查地点", r.place),
        *party_rows(r),
        ("现场负责人", present),
        ("检查类型", KIND_LABELS.get(r.kind, r.kind), "记录人", legal.get("recorder") or "（未填写）"),
        ("执法人员", officers_text(r)),
        ("检查方式", f"{r.notified_by or '现场检查'}；依据《{r.template.title}》"),
        ("执法记录仪", _camera_text(r)),
    ]))
    story += [
        page.p("告知事项", "head"),
        page.p(
            f"我们是{page.organ}的执法人员，已向你出示执法证件。现依法进行现场检查，请予配合。"
            "你有如实回答询问、协助检查的义务；你依法享有陈述、申辩的权利；"
            "如认为执法人员与本案有直接利害关系，可以申请回避。",
            "body",
        ),
        page.p(f"问：你是否看清了我们的执法证件？　答：{legal.get('credentials_answer') or '（未记录）'}", "body"),
        page.p(f"问：你是否申请执法人员回避？　答：{legal.get('recusal_answer') or '（未记录）'}", "body"),
        page.p("现场情况", "head"),
        *page.paras(r.findings),
    ]
    failed = r.failed_items()
    if failed:
        story.append(Spacer(1, 4))
        story.append(items_table(
            page, ["序号", "检查项目", "不符合情况", "违反的规定"],
            [[str(n), f"{f.section.title}：{f.item.text}",
              fact_text(r, f) + (f"。{f.note}" if f.note.strip() else "") + (f"（照片{len(r.photos_of(f.item.code))}张，见附件1）"
                                                                          if r.photos_of(f.item.code) else ""),
              f.item.basis]
             for n, f in enumerate(failed, 1)],
            widths=(12, 56, 62, 44),
        ))
    story += [page.p("当事人陈述、申辩", "head"), *page.paras(r.party_statement)]
    story.append(KeepTogether(_confirmation(page)))
    return story


def _confirmation(page: Page) -> list:
    """The last block: the party's confirmation (recorded, never pre-printed), the refusal or
    absence with the witness, and every signature with its date."""
    r, legal = page.record, page.record.legal
    story = [page.p("当事人确认", "head")]
    if legal.get("party_absent"):
        story.append(page.p(f"当事人不在场。见证人：{witness_text(r)}，见证以上检查过程（{ABSENT_BASIS}）。", "body"))
        story.append(signature_block(page, "见证人签名", [r.signatures.get(WITNESS_ROLE)], count=1))
    elif r.party_refused:
        story.append(page.p(f"当事人拒绝签字，理由：{legal.get('refusal_reason') or '（未说明）'}。"
                            f"见证人：{witness_text(r)}，见证以上情况。", "body"))
        story.append(signature_block(page, "见证人签名", [r.signatures.get(WITNESS_ROLE)], count=1))
    else:
        if page.wet or not legal.get("confirmation"):
            story.append(page.p("当事人意见（由当事人阅读笔录后亲笔书写）：", "body"))
            story.append(page.p("＿" * 38, "body"))
        else:
            story.append(page.p(f"当事人意见：{legal['confirmation']}", "body"))
        rep = "经营者" if individual_business(r) else "当事人（或现场负责人）"
        story.append(signature_block(page, f"{rep}签名", [r.signatures.get(PARTY_ROLE)], count=1, fingerprint=page.wet))
    officers = [r.signatures.get(officer_role(i)) for i in range(len(r.officers))]
    story.append(signature_block(page, "执法人员签名", officers, count=len(r.officers)))
    if legal.get("recorder"):
        story.append(page.p(f"记录人：{legal['recorder']}", "base"))
    return story
