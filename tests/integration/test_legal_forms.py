"""What the three forms print for a legal reviewer (issue 11), read back from the PDFs."""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import sqlite3

import pytest

from core import inspections as svc
from core.errors import InvalidInput, NotFound, WorkflowError
from core.printing import print_form
from core.verification import make_payload, verify_payload
from tests.integration.helpers import officer_passwords, PRODUCT, WITNESS, answer_all, sign_all, signature_png
from tests.integration.pdfcheck import pdf_text

ONE_OFFICER = [svc.OfficerData("王建国", "41170021001")]


def text_of(ctx, inspection_id, form, tmp_path) -> str:
    return "".join(pdf_text(print_form(ctx, inspection_id, form, tmp_path / f"{form}.pdf")).split())


def completed(ctx, subject_id, officers, failures, **kw) -> str:
    inspection_id = svc.start_inspection(ctx, subject_id, "cosmetics-531", officers, **kw)
    answer_all(ctx, inspection_id, failures)
    svc.update_details(ctx, inspection_id, party_present_name="张三", party_statement="无异议")
    svc.complete_inspection(ctx, inspection_id)
    return inspection_id


# --- 1. two officers ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["routine", "enforcement"])
def test_two_officers_routine_or_not_issue_an_order(ctx, subject, officers, kind):
    inspection_id = completed(ctx, subject.id, officers, {"G1": "无记录"}, kind=kind)
    assert svc.load_inspection(ctx, inspection_id).rectification is not None


def test_one_officer_visit_is_recorded_and_signed_but_orders_nothing(ctx, subject, tmp_path):
    inspection_id = completed(ctx, subject.id, ONE_OFFICER, {"G1": "无记录"}, kind="routine")
    record = svc.load_inspection(ctx, inspection_id)
    assert record.status == "completed" and record.rectification is None
    sign_all(ctx, inspection_id)
    text = text_of(ctx, inspection_id, "record", tmp_path)
    assert "巡查记录" in text and "现场检查笔录" not in text.replace(f"现场检查笔录{record.number}", "")
    assert "不作为行政执法文书" in text and "执法人员少于两名" in text
    with pytest.raises(NotFound, match="不能出具责令改正通知书.*两名以上"):
        print_form(ctx, inspection_id, "rectification", tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_enforcement_kind_needs_two_officers_to_start_and_to_complete(ctx, subject, officers):
    with pytest.raises(InvalidInput, match="至少需要2名执法人员"):
        svc.start_inspection(ctx, subject.id, "cosmetics-531", ONE_OFFICER)
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {})
    with ctx.transaction() as s:  # a draft of an older version, started with one officer
        from db.models import Inspection

        draft = s.get(Inspection, inspection_id)
        draft.officers.pop()
    with pytest.raises(WorkflowError, match="两名执法人员"):
        svc.complete_inspection(ctx, inspection_id)


def test_an_officer_removed_after_the_order_drops_it_and_an_order_without_two_is_never_signed(ctx, subject, officers):
    inspection_id = completed(ctx, subject.id, officers, {"G1": "无记录"}, kind="routine")
    assert svc.load_inspection(ctx, inspection_id).rectification is not None
    svc.set_officers(ctx, inspection_id, ONE_OFFICER)
    svc.complete_inspection(ctx, inspection_id)
    assert svc.load_inspection(ctx, inspection_id).rectification is None


# --- 2. checklist data ------------------------------------------------------------------------
def test_every_item_has_a_duty_basis_without_penalty_articles_and_a_penalty_basis():
    import re

    from core.checklists import load_templates

    templates = load_templates()
    assert {t.code: t.version for t in templates.values()} == {
        "cosmetics-531": 3, "device-operator": 4, "device-wholesale": 1, "device-retail": 1, "device-cold-chain": 1,
        "device-user": 1, "drug-retail": 1}
    penalty_from = {"《化妆品监督管理条例》": "第五十九条|第六十条|第六十一条|第六十二条",
                    "《医疗器械经营监督管理办法》": "第六十六条|第六十七条|第六十八条",
                    "《医疗器械监督管理条例》": "第八十一条|第八十四条|第八十五条|第八十六条|第八十七条|第八十八条|第八十九条|第九十条",
                    "《中华人民共和国药品管理法》": "第一百一十五条|第一百一十七条|第一百二十六条|第一百二十九条|第一百三十条"}
    items = [i for t in templates.values() for i in t.items]
    assert len(items) == 198
    for item in items:
        assert item.penalty_basis, item.code
        for law, articles in penalty_from.items():
            for segment in item.basis.split("；"):
                if segment.startswith(law):
                    assert not re.search(articles, segment), (item.code, item.basis)
    for template in templates.values():
        assert template.order_authority
    assert templates["cosmetics-531"].order_authority == "《化妆品监督管理条例》第六十二条"
    assert templates["cosmetics-531"].authority_of(templates["cosmetics-531"].item("D1")) == \
        "《化妆品监督管理条例》第六十一条第二款"
    assert templates["device-operator"].order_authority == "《医疗器械经营监督管理办法》第四十九条"
    likely = {i.code for i in templates["cosmetics-531"].items if i.penalty_likely}
    assert {"B1", "B2", "B3", "B4"} <= likely and "G1" not in likely


# --- 3. 责令改正通知书 ------------------------------------------------------------------------
def test_order_cites_duty_provisions_by_law_and_the_authorising_provision(ctx, subject, officers, tmp_path):
    inspection_id = completed(ctx, subject.id, officers, {"C1": "未留存", "G1": "无记录", "B2": "无备案"})
    sign_all(ctx, inspection_id)
    text = text_of(ctx, inspection_id, "rectification", tmp_path)
    breached = text[text.index("上述行为违反了"):text.index("的规定。")]
    assert breached == ("上述行为违反了《化妆品监督管理条例》第四条第二款、第十七条、第三十八条第一款，"
                        "《化妆品生产经营监督管理办法》第三十九条")
    assert "第六十二条第一款第（二）项" not in breached and "第六十一条" not in breached
    assert "依据《化妆品监督管理条例》第六十二条的规定，现责令你（单位）于" in text
    assert "行政处罚法》第二十八条" not in text
    assert "对你（单位）涉嫌违法行为，本机关将另行依法处理。" in text  # B2: 未备案 carries a fine
    assert "六十日内向示例市人民政府申请行政复议" in text and "六个月内依法向示例市人民法院提起行政诉讼" in text
    assert "当事人签收：以上通知已收到。当事人签名：" in text
    record = svc.load_inspection(ctx, inspection_id)
    signed_on = record.signatures[svc.ORDER_ROLE].signed_at
    assert f"{signed_on.year}年{signed_on.month}月{signed_on.day}日" in text[text.index("以上通知已收到"):]


def test_order_without_fined_findings_has_no_separate_handling_line(ctx, subject, officers, tmp_path):
    inspection_id = completed(ctx, subject.id, officers, {"G1": "无记录"})
    text = text_of(ctx, inspection_id, "rectification", tmp_path)
    assert "另行依法处理" not in text


def test_appeal_organ_and_limits_come_from_the_station(ctx, subject, officers, tmp_path):
    from dataclasses import replace

    from core.station import get_settings, update_settings

    update_settings(ctx, replace(get_settings(ctx), review_organ="驻马店市驿城区人民政府", review_days=90,
                                 court="驿城区人民法院", lawsuit_months=6))
    inspection_id = completed(ctx, subject.id, officers, {"G1": "无记录"})
    text = text_of(ctx, inspection_id, "rectification", tmp_path)
    assert "九十日内向驻马店市驿城区人民政府申请行政复议" in text and "向驿城区人民法院提起行政诉讼" in text


def test_refused_order_prints_the_refusal_not_the_receipt(ctx, subject, officers, tmp_path):
    inspection_id = completed(ctx, subject.id, officers, {"G1": "无记录"})
    sign_all(ctx, inspection_id, refused=True)
    text = text_of(ctx, inspection_id, "rectification", tmp_path)
    assert "当事人拒绝签收本通知书，理由：拒绝签收" in text and "见证人：孙丽" in text
    assert "以上通知已收到" not in text


def test_the_order_is_signed_for_separately_from_the_record(ctx, subject, officers):
    inspection_id = completed(ctx, subject.id, officers, {"G1": "无记录"})
    svc.set_legal(ctx, inspection_id, confirmation=svc.DEFAULT_CONFIRMATION)
    record = svc.load_inspection(ctx, inspection_id)
    assert svc.signature_roles(record)[:2] == [svc.PARTY_ROLE, svc.ORDER_ROLE]
    for role in (svc.PARTY_ROLE, "officer1", "officer2"):
        svc.add_signature(ctx, inspection_id, role, "签名人", signature_png())
    with pytest.raises(WorkflowError, match="签收责令改正通知书"):
        svc.sign_inspection(ctx, inspection_id, officer_passwords(ctx, inspection_id))


# --- 4. 现场检查笔录 --------------------------------------------------------------------------
def test_record_prints_identity_answers_camera_recorder_and_definite_facts(ctx, officers, tmp_path):
    from core.demo import demo_code
    from core.subjects import SubjectData, add_subject

    shop = add_subject(ctx, SubjectData(
        name="驿城区百姓健康医疗器械店", category="device_operator", credit_code=demo_code(203, individual=True),
        filing_no="豫驻食药监械经营备20220156号", legal_rep="孙健", address="前进路32号", phone="139"))
    inspection_id = svc.start_inspection(ctx, shop.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {"B2": "货架上", "G1": "近三个月"})
    svc.set_legal(ctx, inspection_id, party_id_no="411702198502051223", recorder="李秀英",
                  credentials_answer="看清楚了", recusal_answer="不申请", camera_device="DSJ-01",
                  camera_file="09:30—10:20")
    svc.update_details(ctx, inspection_id, party_present_name="孙健")
    svc.complete_inspection(ctx, inspection_id)
    draft = text_of(ctx, inspection_id, "record", tmp_path)
    assert "以上笔录我已看过" not in draft  # never pre-printed: the party writes or confirms it
    assert "当事人意见（由当事人阅读笔录后亲笔书写）" in draft
    sign_all(ctx, inspection_id)
    text = text_of(ctx, inspection_id, "record", tmp_path)
    for expected in ("备案编号：豫驻食药监械经营备20220156号", "经营者孙健", "身份证件号码411702198502051223",
                     "记录人李秀英", "答：看清楚了", "答：不申请", "设备编号DSJ-01", "09:30—10:20",
                     "备案信息经查询不存在", "产品名称：" + PRODUCT["name"], "批号：" + PRODUCT["batch"],
                     "数量：" + PRODUCT["quantity"], "当事人意见：以上笔录我已看过，与事实相符。"):
        assert "".join(expected.split()) in text, expected
    assert "法定代表人" not in text
    assert "备案信息经查询不存在或与产品不符" not in text  # the either-or wording is resolved
    record = svc.load_inspection(ctx, inspection_id)
    when = record.signatures[svc.PARTY_ROLE].signed_at
    assert text.count(f"{when.year}年{when.month}月{when.day}日") >= 3  # each signature with its date


def test_failed_items_must_state_the_case_and_the_product(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    for item in svc.load_inspection(ctx, inspection_id).template.items:
        svc.set_answer(ctx, inspection_id, item.code, "fail" if item.code == "B2" else "pass")
    svc.set_note(ctx, inspection_id, "B2", "货架")
    with pytest.raises(WorkflowError, match="具体情形：B2.*产品名称、规格、批号和数量：B2"):
        svc.complete_inspection(ctx, inspection_id)
    with pytest.raises(InvalidInput, match="没有“随便写”这一情形"):
        svc.set_item_detail(ctx, inspection_id, "B2", case="随便写")
    with pytest.raises(InvalidInput, match="不涉及具体产品"):
        svc.set_item_detail(ctx, inspection_id, "G1", product=PRODUCT)


def test_refusal_records_its_reason_and_a_whole_witness(ctx, subject, officers, tmp_path):
    inspection_id = completed(ctx, subject.id, officers, {"G1": "无记录"})
    svc.update_details(ctx, inspection_id, party_refused=True, witness_name="孙丽")
    for role in svc.signature_roles(svc.load_inspection(ctx, inspection_id)):
        svc.add_signature(ctx, inspection_id, role, "签名人", signature_png())
    with pytest.raises(WorkflowError) as problem:
        svc.sign_inspection(ctx, inspection_id, officer_passwords(ctx, inspection_id))
    assert "拒绝的理由" in str(problem.value) and "身份证件号码或工作单位、联系电话" in str(problem.value)
    svc.set_legal(ctx, inspection_id, refusal_reason="不认可", **WITNESS)
    svc.sign_inspection(ctx, inspection_id, officer_passwords(ctx, inspection_id))
    text = text_of(ctx, inspection_id, "record", tmp_path)
    assert "当事人拒绝签字，理由：不认可。见证人：孙丽（西园社区居委会，联系电话13900000000）" in text
    assert "以上笔录我已看过" not in text


def test_absent_party_is_its_own_case_with_a_witness(ctx, subject, officers, tmp_path):
    inspection_id = completed(ctx, subject.id, officers, {"G1": "无记录"})
    svc.update_details(ctx, inspection_id, witness_name="孙丽")
    svc.set_legal(ctx, inspection_id, party_absent=True, **WITNESS)
    with pytest.raises(InvalidInput, match="不能同时选择"):
        svc.update_details(ctx, inspection_id, party_refused=True)
    record = svc.load_inspection(ctx, inspection_id)
    roles = svc.signature_roles(record)
    assert svc.PARTY_ROLE not in roles and svc.ORDER_ROLE not in roles and svc.WITNESS_ROLE in roles
    for role in roles:
        svc.add_signature(ctx, inspection_id, role, "签名人", signature_png())
    svc.sign_inspection(ctx, inspection_id, officer_passwords(ctx, inspection_id))
    text = text_of(ctx, inspection_id, "record", tmp_path)
    assert "当事人不在场。见证人：孙丽" in text and "《中华人民共和国行政强制法》第十八条" in text
    assert "当事人拒绝签字" not in text
    order = text_of(ctx, inspection_id, "rectification", tmp_path)
    assert "当事人不在场，本通知书依法另行送达。" in order and "以上通知已收到" not in order


def test_the_reporter_of_a_lead_cannot_witness_its_inspection(ctx, subject, officers):
    from core import leads
    from core.tasks import list_tasks, start_task
    from core.users import add_user

    inspector = add_user(ctx, name="王建国", role="inspector", password="pass1234!", cert_no="41170021001")
    add_user(ctx, name="马红", role="grid_worker", password="pass1234!", grid="西园社区")
    grid = [u for u in __import__("core.users", fromlist=["list_users"]).list_users(ctx) if u.name == "马红"][0]
    ctx.user = grid
    lead_id = leads.report_lead(ctx, category="expired_in_use", description="过期化妆品", subject_id=subject.id)
    ctx.user = None
    leads.receive_lead(ctx, lead_id)
    leads.assign_lead(ctx, lead_id, inspector.id)
    leads.handle_lead(ctx, lead_id, "event", "转任务")
    [task] = list_tasks(ctx, subject_id=subject.id)
    inspection_id = start_task(ctx, task.id, officers)
    with pytest.raises(InvalidInput, match="线索的报告人，不能担任见证人"):
        svc.update_details(ctx, inspection_id, witness_name="马红")
    svc.update_details(ctx, inspection_id, witness_name="孙丽")
    assert svc.load_inspection(ctx, inspection_id).witness_name == "孙丽"


# --- 5. wet signatures and the canonical versions -----------------------------------------
def test_printed_for_wet_signatures_the_record_locks_and_prints_blank_lines(ctx, subject, officers, tmp_path):
    inspection_id = completed(ctx, subject.id, officers, {"G1": "无记录"})
    svc.lock_for_wet_signing(ctx, inspection_id, officer_passwords(ctx, inspection_id))
    record = svc.load_inspection(ctx, inspection_id)
    assert record.locked and record.legal["wet"] is True and record.signatures == {}
    assert record.current_hash() == record.content_hash
    assert verify_payload(ctx, make_payload(record, "record")).ok
    text = text_of(ctx, inspection_id, "record", tmp_path)
    assert "纸质签名文书" in text and "（捺印）" in text and "当事人意见（由当事人阅读笔录后亲笔书写）" in text
    assert "以上笔录我已看过" not in text
    order = text_of(ctx, inspection_id, "rectification", tmp_path)
    assert "以上通知已收到。当事人签名：＿" in order


def test_wet_signing_refused_once_a_signature_was_drawn(ctx, subject, officers):
    inspection_id = completed(ctx, subject.id, officers, {})
    svc.add_signature(ctx, inspection_id, "officer1", "王建国", signature_png())
    with pytest.raises(WorkflowError, match="手写的签名"):
        svc.lock_for_wet_signing(ctx, inspection_id, officer_passwords(ctx, inspection_id))
    assert not svc.load_inspection(ctx, inspection_id).locked


def test_v2_hash_covers_the_legal_elements(ctx, subject, officers):
    from dataclasses import replace

    record = svc.load_inspection(ctx, __import__("tests.integration.helpers", fromlist=["x"]).signed_inspection(
        ctx, subject.id, officers))
    assert svc.canonical_version(record) == 2 and record.current_hash() == record.content_hash
    altered = replace(record, legal={**record.legal, "confirmation": "我不同意"})
    assert altered.current_hash() != record.content_hash
    downgraded = replace(record, legal={})  # claiming v1 does not dodge the hash
    assert downgraded.current_hash() != record.content_hash


def test_a_record_signed_under_canonical_v1_keeps_verifying(ctx, subject, officers, monkeypatch):
    """As the code before canonical versions signed it: legal_json {} and the v1 hash."""
    from core.inspections import workflow

    inspection_id = completed(ctx, subject.id, officers, {"G1": "无记录"})
    raw = rawdb.connect(ctx.engine.url.database)
    raw.execute("UPDATE inspections SET legal_json = '{}' WHERE id = ?", (inspection_id,))
    raw.commit()
    raw.close()
    record = svc.load_inspection(ctx, inspection_id)
    assert svc.signature_roles(record) == ["party", "party_order", "officer1", "officer2"]  # not signed: v2 rules
    for role in ("party", "officer1", "officer2"):  # what the old code asked for
        svc.add_signature(ctx, inspection_id, role, "签名人", signature_png())
    monkeypatch.setattr(workflow, "_upgrade", lambda inspection: None)
    monkeypatch.setattr(workflow, "signing_problems", lambda record: [])
    svc.sign_inspection(ctx, inspection_id, officer_passwords(ctx, inspection_id))
    monkeypatch.undo()
    record = svc.load_inspection(ctx, inspection_id)
    assert svc.canonical_version(record) == 1 and record.legal == {}
    assert svc.signature_roles(record) == ["party", "officer1", "officer2"]  # as signed
    for form in ("record", "checklist", "rectification"):
        assert verify_payload(ctx, make_payload(record, form)).ok, form


# --- 6. 检查记录表 ----------------------------------------------------------------------------
def test_checklist_is_the_records_attachment_with_result_measures_opinion_and_photos(ctx, subject, officers,
                                                                                     tmp_path):
    from PIL import Image
    from pypdf import PdfReader

    photo = tmp_path / "现场.png"
    Image.new("RGB", (64, 48), (200, 40, 40)).save(photo)
    inspection_id = completed(ctx, subject.id, officers, {})
    svc.reopen_inspection(ctx, inspection_id)
    svc.set_answer(ctx, inspection_id, "A3", "na")
    svc.set_answer(ctx, inspection_id, "B2", "fail")
    svc.set_note(ctx, inspection_id, "B2", "面膜")
    svc.set_item_detail(ctx, inspection_id, "B2", case="经营未备案的普通化妆品（备案信息经查询不存在）", product=PRODUCT)
    svc.add_photo(ctx, inspection_id, "B2", photo)
    with pytest.raises(WorkflowError, match="不适用项数"):  # findings drafted before say 不适用 0 项
        svc.complete_inspection(ctx, inspection_id)
    svc.update_details(ctx, inspection_id, findings="")
    svc.complete_inspection(ctx, inspection_id)
    svc.set_legal(ctx, inspection_id, checklist_opinion="无异议")
    sign_all(ctx, inspection_id)
    record = svc.load_inspection(ctx, inspection_id)
    out = print_form(ctx, inspection_id, "checklist", tmp_path / "c.pdf")
    text = "".join(pdf_text(out).split())
    assert f"{record.number}附件1" in text and f"现场检查笔录{record.number}的附件1" in text
    assert "■不符合" in text and "□符合" in text
    assert f"当场出具责令改正通知书（{record.rectification.number}）" in text and "另行依法处理" in text
    assert "当事人意见无异议" in text
    assert "不适用1项" in text and "其中不适用1项" in "".join(record.findings.split())
    assert "附页：不符合项照片" in text and "B2照片1" in text
    sizes = [image.image.size for image in PdfReader(str(out)).pages[-1].images]
    assert (64, 48) in sizes  # the photo itself, as a thumbnail in the appendix
    assert verify_payload(ctx, make_payload(record, "checklist")).ok
