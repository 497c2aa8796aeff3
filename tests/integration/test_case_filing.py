"""案件来源登记表 and 立案审批表 from a 立案建议: a failed re-inspection, a lead handled as a case;
the approval chain 承办人 → 所长, the lock, the printed elements and the QR."""
from __future__ import annotations

import pytest

from core import inspections as svc
from core.casework import cases
from core.casework.store import list_case_documents, load_case_document
from core.errors import InvalidInput, RecordLocked
from core.printing import print_case_document
from core.users import PermissionDenied, UserRow
from core.verification import make_payload, verify_payload
from db.models import CaseDocument
from tests.integration.helpers import signed_inspection
from tests.integration.pdfcheck import decode_qr, pdf_text
from tests.integration.test_review_form import FAILURES, reinspect

ADMIN = UserRow(id="a", name="所长王", role="admin", cert_no="", grid="", can_log_in=True)
INSPECTOR = UserRow(id="i", name="王建国", role="inspector", cert_no="41170021001", grid="", can_log_in=True)


def failed_reinspection(ctx, subject, officers):
    original = svc.load_inspection(ctx, signed_inspection(ctx, subject.id, officers, FAILURES))
    review = svc.load_inspection(ctx, reinspect(ctx, officers, {"G1": "仍无进货查验记录"}))
    return original, review


def text_of(path) -> str:
    return "".join(pdf_text(path).split())


def test_a_failed_reinspection_produces_a_filing_draft_citing_the_original_order(ctx, subject, officers, tmp_path):
    original, review = failed_reinspection(ctx, subject, officers)
    order = original.rectification.number
    filing = cases.draft_case(ctx, rectification_id=order)
    assert filing.kind == "case_filing" and filing.status == "draft" and filing.number.startswith("示市监立〔")
    assert filing.content["original_order"] == order and filing.inspection_id == review.id
    # only the item still failing at the re-inspection: G1 (进货查验), with both bases
    assert [i["code"] for i in filing.content["items"]] == ["G1"]
    item = filing.content["items"][0]
    assert item["basis"] and item["penalty_basis"]
    assert "《化妆品监督管理条例》" in filing.content["violated"]
    assert any(order in e for e in filing.content["evidence"])
    assert any(review.number in e for e in filing.content["evidence"])
    source = load_case_document(ctx, filing.parent_id)
    assert source.kind == "case_source" and source.number.startswith("示市监案源〔")
    assert filing.content["source_number"] == source.number and order in source.content["source_ref"]
    # one filing per order
    with pytest.raises(InvalidInput, match="已拟立案审批表"):
        cases.draft_case(ctx, rectification_id=order)
    out = print_case_document(ctx, filing.id, tmp_path / "filing.pdf")
    text = text_of(out)
    for element in ("立案审批表", filing.number, "案由", subject.name, order, original.number, review.number,
                    "简要案情及立案依据", "涉嫌违反", "建议处罚依据", "证据材料", "承办人意见", "负责人审批意见",
                    "草稿", source.number):
        assert element in text, element


def test_an_order_without_a_case_recommendation_is_refused(ctx, subject, officers):
    original = svc.load_inspection(ctx, signed_inspection(ctx, subject.id, officers, FAILURES))
    with pytest.raises(InvalidInput, match="没有立案建议"):
        cases.draft_case(ctx, rectification_id=original.rectification.number)
    reinspect(ctx, officers, {})  # 整改到位
    with pytest.raises(InvalidInput, match="没有立案建议"):
        cases.draft_case(ctx, rectification_id=original.rectification.number)
    assert list_case_documents(ctx) == []


def test_the_approval_chain_records_who_decided_and_locks_both_papers(ctx, subject, officers, tmp_path):
    original, _review = failed_reinspection(ctx, subject, officers)
    filing = cases.draft_case(ctx, rectification_id=original.rectification.number)
    with pytest.raises(InvalidInput, match="未填写承办人意见"):
        cases.submit_case(ctx, filing.id)
    with pytest.raises(InvalidInput, match="证据名称"):  # the text and the evidence list: all or nothing
        cases.edit_case(ctx, filing.id, handler_opinion="不会保存", evidence=["询问笔录", "长" * 301])
    assert load_case_document(ctx, filing.id).content["handler_opinion"] == ""
    cases.edit_case(ctx, filing.id, handler_opinion="当事人逾期未改正，建议立案调查。",
                    evidence=[*filing.content["evidence"], "  ", "询问笔录 示市监询〔2026〕1号"])
    assert load_case_document(ctx, filing.id).content["evidence"][-1] == "询问笔录 示市监询〔2026〕1号"
    ctx.user = INSPECTOR
    cases.submit_case(ctx, filing.id)
    with pytest.raises(PermissionDenied):  # an inspector does not approve
        cases.decide_case(ctx, filing.id, "approve")
    with pytest.raises(InvalidInput, match="待审批"):  # submitted: the 承办人 cannot change it now
        cases.edit_case(ctx, filing.id, cause="改案由")
    ctx.user = ADMIN
    with pytest.raises(InvalidInput, match="请填写审批意见"):
        cases.decide_case(ctx, filing.id, "return")
    returned = cases.decide_case(ctx, filing.id, "return", "证据材料请补充询问笔录")
    assert returned.status == "draft" and returned.content["returns"][0]["by"] == "所长王"
    ctx.user = INSPECTOR
    cases.submit_case(ctx, filing.id)
    ctx.user = ADMIN
    approved = cases.decide_case(ctx, filing.id, "approve", "同意立案，由王建国、李秀英承办。")
    assert approved.locked and approved.current_hash() == approved.content_hash
    assert approved.content["approval"]["by"] == "所长王" and approved.content["approval"]["decision"] == "同意立案"
    source = load_case_document(ctx, approved.parent_id)
    assert source.locked and source.content["decision"]["filing_number"] == approved.number
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.get(CaseDocument, approved.id).content_json = "{}"
    with pytest.raises(RecordLocked, match="已签发锁定"):
        cases.decide_case(ctx, filing.id, "decline", "再改")
    out = print_case_document(ctx, filing.id, tmp_path / "approved.pdf")
    text = text_of(out)
    assert "同意立案，由王建国、李秀英承办。" in text and "所长王" in text and "草稿" not in text
    assert "退回" in text and "证据材料请补充询问笔录" in text
    payload = make_payload(approved, "case_filing")
    assert decode_qr(out) == [payload]
    verdict = verify_payload(ctx, payload)
    assert verdict.ok and approved.number in verdict.message
    source_pdf = print_case_document(ctx, source.id, tmp_path / "source.pdf")
    source_text = text_of(source_pdf)
    for element in ("案件来源登记表", source.number, "案件来源", "整改复查未整改到位", subject.name, "负责人意见",
                    "同意立案"):
        assert element in source_text, element
    assert verify_payload(ctx, make_payload(source, "case_source")).ok


def test_a_lead_handled_as_a_case_produces_the_papers(ctx, subject, officers):
    from core import leads
    from core.users import add_user

    grid = add_user(ctx, name="网格员甲", role="grid_worker", password="secret-123", grid="测试社区")
    inspector = add_user(ctx, name="王建国", role="inspector", cert_no="41170021001", password="secret-123")
    ctx.user = grid
    lead_id = leads.report_lead(ctx, category="fake_drugs", description="店内销售无批准文号的“祖传药膏”",
                                subject_id=subject.id)
    ctx.user = None
    leads.receive_lead(ctx, lead_id)
    leads.assign_lead(ctx, lead_id, inspector.id)
    ctx.user = inspector
    leads.handle_lead(ctx, lead_id, "case", "现场核实确有销售")
    filing = cases.draft_case(ctx, lead_id=lead_id, officers=officers)
    assert "祖传药膏" in filing.content["facts"] and filing.content["items"] == []
    source = load_case_document(ctx, filing.parent_id)
    assert source.content["source"].startswith("线索") and source.content["party"]["name"] == subject.name
