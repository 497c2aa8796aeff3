"""案件来源登记表 (范本 1) and 立案审批表 (范本 7), drafted from a 立案建议.

A 立案建议 arises from a failed re-inspection (the 责令改正 marked ``case_recommended`` by
``core.tasks.after_signing``) or a lead handled as a case (``handling = "case"``). ``draft_case``
makes both papers in one transaction, each with its own number: the registration (where the case
came from, the party, what was found) and the filing (案由, the facts per item, the evidence list,
the provisions breached — the items' duty ``basis`` — and the suggested penalty basis — their
``penalty_basis`` — grouped by law, and the original order's number).

The approval chain (承办人 → 所长): the 承办人 (two officers with 执法证号) write their opinion
and submit (``submit_case``; permission ``inspect``); the 所长 (an admin, permission
``approve_cases``) decides (``decide_case``): 同意立案 or 不予立案 locks both papers with the
decision, who and when; 退回 sends the filing back to a draft with the reason kept.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from core.casework.store import (
    CaseRecord, list_case_documents, lock, new_row, put_content, record_of, row_of, writable,
)
from core.errors import InvalidInput, NotFound
from core.forms.common import group_by_law
from core.inspections import enforcement_problems, fact_text, load_inspection
from core.leads import CATEGORIES as LEAD_CATEGORIES
from core.text import bounded_text
from core.users import require
from db.models import CaseDocument, Lead, Questioning, Rectification, ServiceReceipt, Subject

if TYPE_CHECKING:
    from core.context import AppContext

MAX_TEXT = 4000
DECISIONS = {"approve": "同意立案", "decline": "不予立案", "return": "退回承办人补充"}
NO_PENALTY = "本表未列明罚则条款"


def _actor(ctx: AppContext) -> str:
    return ctx.user.name if ctx.user is not None else "系统"


def _cn(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _party_of_subject(subject: Subject) -> dict:
    return {"name": subject.name, "credit_code": subject.credit_code or "", "address": subject.address or "",
            "legal_rep": subject.legal_rep or "", "phone": subject.phone or ""}


def _signed_numbers(session, model, inspection_ids: list[str]) -> list[str]:
    return list(session.scalars(select(model.number).where(model.inspection_id.in_(inspection_ids),
                                                           model.status == "signed").order_by(model.number)))


def _from_rectification(ctx: AppContext, s, rect: Rectification) -> tuple[dict, dict, str, str]:
    if rect.status != "case_recommended" or not rect.reinspection_id:
        raise InvalidInput(f"责令改正通知书 {rect.number} 没有立案建议（复查未发现未整改到位）")
    original = load_inspection(ctx, rect.inspection_id)
    review = load_inspection(ctx, rect.reinspection_id)
    items = []
    for failed in original.order_items():
        answer = review.answer(failed.item.code)
        if answer.result != "fail":
            continue
        items.append({"code": failed.item.code, "fact": fact_text(original, failed), "still": answer.note or "",
                      "basis": failed.item.basis, "penalty_basis": failed.item.penalty_basis})
    if not items:
        items = [{"code": f.item.code, "fact": fact_text(original, f), "still": "", "basis": f.item.basis,
                  "penalty_basis": f.item.penalty_basis} for f in original.order_items()]
    ids = [original.id, review.id]
    evidence = [f"现场检查笔录 {original.number}", f"检查记录表 {original.number}附件1"]
    photos = sum(1 for p in original.photos if p.item_code in {i["code"] for i in items})
    if photos:
        evidence.append(f"不符合项现场照片 {photos} 张（{original.number}附页）")
    evidence.append(f"责令改正通知书 {rect.number}（限 {rect.deadline.isoformat()} 前改正）")
    evidence += [f"送达回证 {n}" for n in _signed_numbers(s, ServiceReceipt, ids)]
    evidence += [f"复查现场检查笔录 {review.number}", f"整改复查意见书 {review.number}复查意见"]
    evidence += [f"询问笔录 {n}" for n in _signed_numbers(s, Questioning, ids)]
    party = dict(original.party)
    facts = (f"{_cn(original.started_at)}，本所执法人员对{party.get('name', '')}进行现场检查，发现"
             + "；".join(i["fact"] for i in items) + f"。本所于当日出具责令改正通知书（{rect.number}），"
             f"责令其于{_cn(rect.deadline)}前改正。{_cn(review.started_at)}复查（{review.number}），"
             "上述问题仍未改正（未整改到位）。")
    source = {"source": "监督检查（整改复查未整改到位）", "source_ref": f"责令改正通知书 {rect.number}；复查 {review.number}",
              "found_at": review.started_at.date().isoformat(), "party": party, "summary": facts,
              "officers": [[o.name, o.cert_no] for o in review.officers]}
    filing = {"party": party, "facts": facts, "items": items, "evidence": evidence, "original_order": rect.number,
              "original_record": original.number, "reinspection": review.number,
              "officers": [[o.name, o.cert_no] for o in review.officers]}
    return source, filing, original.subject_id, review.id


def _from_lead(s, lead: Lead, officers) -> tuple[dict, dict, str | None, None]:
    if lead.handling != "case":
        raise InvalidInput("该线索未处置为“并入案件办理”，没有立案建议")
    subject = s.get(Subject, lead.subject_id) if lead.subject_id else None
    party = _party_of_subject(subject) if subject else {"name": lead.party_name, "address": lead.party_address}
    facts = (f"{_cn(lead.reported_at)}收到网格员线索（{LEAD_CATEGORIES.get(lead.category, lead.category)}）："
             f"{lead.description}" + (f"。核查情况：{lead.handling_note}" if lead.handling_note else ""))
    source = {"source": f"线索（{LEAD_CATEGORIES.get(lead.category, lead.category)}）", "source_ref": f"线索 LEAD-{lead.id[:8]}",
              "found_at": lead.reported_at.date().isoformat(), "party": party, "summary": facts,
              "officers": [[o.name, o.cert_no] for o in officers]}
    filing = {"party": party, "facts": facts, "items": [], "evidence": [f"线索登记 LEAD-{lead.id[:8]}"],
              "officers": [[o.name, o.cert_no] for o in officers], "lead_id": lead.id}
    return source, filing, lead.subject_id, None


def draft_case(ctx: AppContext, *, rectification_id: str | None = None, lead_id: str | None = None,
               officers=None) -> CaseRecord:
    """The 案件来源登记表 and 立案审批表 (drafts, own numbers) from a 立案建议; returns the filing."""
    require(ctx, "inspect")
    with ctx.transaction() as s:
        if rectification_id:
            rect = s.get(Rectification, rectification_id) or s.scalar(
                select(Rectification).where(Rectification.number == rectification_id.strip()))
            if rect is None:
                raise NotFound(f"没有责令改正通知书 {rectification_id}")
            open_ = s.scalar(select(CaseDocument.number).where(
                CaseDocument.kind == "case_filing", CaseDocument.status != "voided",
                CaseDocument.content_json.contains(f'"original_order": "{rect.number}"')))
            if open_:
                raise InvalidInput(f"责令改正通知书 {rect.number} 已拟立案审批表 {open_}")
            source, filing, subject_id, inspection_id = _from_rectification(ctx, s, rect)
        elif lead_id:
            lead = s.get(Lead, lead_id)
            if lead is None:
                raise NotFound(f"没有线索 {lead_id}")
            source, filing, subject_id, inspection_id = _from_lead(s, lead, officers or [])
        else:
            raise InvalidInput("立案须有立案建议：复查未整改到位的责令改正通知书，或并入案件办理的线索")
        names = [f for f in (filing["items"] or [])]
        basis = group_by_law([i["basis"] for i in names if i["basis"]])
        penalty = group_by_law([i["penalty_basis"] for i in names
                                if i["penalty_basis"] and NO_PENALTY not in i["penalty_basis"]])
        filing.update(cause=_cause(filing), violated=basis,
                      penalty=penalty or "（罚则条款由法制审核确定）", handler_opinion="")
        source_row = new_row(ctx, s, "case_source", source, inspection_id=inspection_id, subject_id=subject_id)
        filing["source_number"] = source_row.number
        row = new_row(ctx, s, "case_filing", filing, inspection_id=inspection_id, subject_id=subject_id,
                      parent_id=source_row.id)
        return record_of(row)


def _cause(filing: dict) -> str:
    party = filing["party"].get("name", "当事人")
    if filing["items"]:
        first = filing["items"][0]["fact"].split("（")[0]
        more = "等" if len(filing["items"]) > 1 else ""
        return f"{party}涉嫌{first}{more}案"
    return f"{party}涉嫌违法案"


EDITABLE = {"cause": "案由", "facts": "简要案情", "handler_opinion": "承办人意见", "penalty": "建议的处罚依据",
            "violated": "涉嫌违反的规定"}


def _evidence(evidence: list[str]) -> list[str]:
    items = [bounded_text(e, "证据名称", 300) for e in evidence]
    return [e for e in items if e]


def edit_case(ctx: AppContext, filing_id: str, *, evidence: list[str] | None = None, **fields: str) -> CaseRecord:
    """Change what the 承办人 write (案由, facts, opinion, the provisions; with ``evidence`` the
    evidence list too, all or nothing) on a draft filing."""
    require(ctx, "inspect")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"未知的立案审批表项目：{'、'.join(sorted(unknown))}")
    clean = {k: bounded_text(v, EDITABLE[k], MAX_TEXT) for k, v in fields.items()}
    if evidence is not None:
        clean["evidence"] = _evidence(evidence)
    with ctx.transaction() as s:
        row = row_of(s, filing_id, "case_filing")
        writable(row)
        content = record_of(row).content
        content.update(clean)
        put_content(row, content)
        s.flush()
        return record_of(row)


def set_evidence(ctx: AppContext, filing_id: str, evidence: list[str]) -> CaseRecord:
    require(ctx, "inspect")
    items = _evidence(evidence)
    with ctx.transaction() as s:
        row = row_of(s, filing_id, "case_filing")
        writable(row)
        content = record_of(row).content
        content["evidence"] = items
        put_content(row, content)
        s.flush()
        return record_of(row)


def case_problems(record: CaseRecord) -> list[str]:
    found = []
    officers = enforcement_problems(record)
    if officers:
        found.append("承办人须为两名以上持有执法证件的执法人员：" + "；".join(officers))
    for key, label in (("cause", "案由"), ("facts", "简要案情"), ("handler_opinion", "承办人意见")):
        if not str(record.content.get(key, "")).strip():
            found.append(f"未填写{label}")
    if not record.content.get("evidence"):
        found.append("没有证据材料")
    return found


def submit_case(ctx: AppContext, filing_id: str) -> CaseRecord:
    """承办人 → 所长: the filing goes for approval (nothing in it changes any more unless returned)."""
    require(ctx, "inspect")
    with ctx.transaction() as s:
        row = row_of(s, filing_id, "case_filing")
        writable(row)
        found = case_problems(record_of(row))
        if found:
            raise InvalidInput(f"立案审批表 {row.number} 不能提交审批：{'；'.join(found)}")
        content = record_of(row).content
        content["submitted"] = {"by": _actor(ctx), "at": ctx.clock().isoformat(timespec="minutes")}
        put_content(row, content)
        row.status = "submitted"
        s.flush()
        return record_of(row)


def decide_case(ctx: AppContext, filing_id: str, decision: str, opinion: str = "") -> CaseRecord:
    """The 所长's decision on a submitted filing: approve / decline lock both papers; return reopens it."""
    require(ctx, "approve_cases")
    if decision not in DECISIONS:
        raise InvalidInput(f"未知的审批意见“{decision}”（可用：{'、'.join(DECISIONS)}）")
    opinion = bounded_text(opinion, "审批意见", MAX_TEXT, required=decision != "approve")
    with ctx.transaction() as s:
        row = row_of(s, filing_id, "case_filing")
        writable(row, "submitted")
        content = record_of(row).content
        entry = {"by": _actor(ctx), "at": ctx.clock().isoformat(timespec="minutes"), "decision": DECISIONS[decision],
                 "opinion": opinion or DECISIONS[decision]}
        if decision == "return":
            content.setdefault("returns", []).append(entry)
            put_content(row, content)
            row.status = "draft"
            s.flush()
            return record_of(row)
        content["approval"] = entry
        put_content(row, content)
        lock(ctx, row)
        source = s.get(CaseDocument, row.parent_id) if row.parent_id else None
        if source is not None and source.status != "signed":
            source_content = record_of(source).content
            source_content["decision"] = {**entry, "filing_number": row.number}
            put_content(source, source_content)
            lock(ctx, source)
        s.flush()
        return record_of(row)


def recommendation_of(ctx: AppContext, inspection_id: str) -> str | None:
    """The number of the order a re-inspection recommends a case on (立案建议), if any."""
    with ctx.sessions() as s:
        return s.scalar(select(Rectification.number).where(Rectification.reinspection_id == inspection_id,
                                                           Rectification.status == "case_recommended"))


def papers_of(ctx: AppContext, inspection_id: str) -> list[CaseRecord]:
    """Every case paper of an inspection (a 立案 from its re-inspection, 先行登记保存, 送达地址确认书), oldest first."""
    return list_case_documents(ctx, inspection_id=inspection_id)
