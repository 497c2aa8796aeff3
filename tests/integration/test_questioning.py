"""询问笔录 (范本 14): numbers, the two-officer rule, signing and the lock, the printed elements, QR."""
from __future__ import annotations

import json

import pytest

from core import inspections as svc
from core import questioning as q
from core.errors import InvalidInput, RecordLocked
from core.printing import print_questioning
from core.verification import make_payload, verify_payload
from db.models import Questioning
from tests.integration.helpers import signature_png, signed_inspection
from tests.integration.pdfcheck import decode_qr, pdf_text

PERSON = dict(name="李小梅", sex="女", id_no="410102199001011234", unit="示例美妆店", position="店长",
              phone="13800000001", address="示例市西园路1号", relation="当事人的店长")
LONG_ANSWER = "我店的进货都是从批发市场买的，" * 12


def filled(ctx, inspection_id: str, *, questions: int = 3) -> str:
    draft = q.create_questioning(ctx, inspection_id=inspection_id)
    q.set_person(ctx, draft.id, **PERSON)
    q.set_details(ctx, draft.id, recorder="赵六", notice_answer="看清楚了", recusal_answer="不申请")
    for n in range(questions):
        q.add_qa(ctx, draft.id, f"第{n + 1}个问题：这批保湿乳从哪里进的货？", LONG_ANSWER if n else "从批发市场。")
    return draft.id


def sign_everyone(ctx, qid: str) -> None:
    q.set_details(ctx, qid, confirmation=q.DEFAULT_CONFIRMATION)
    record = q.load_questioning(ctx, qid)
    for role in q.signature_roles(record):
        q.add_signature(ctx, qid, role, PERSON["name"] if role == q.PERSON_ROLE else "执法人员", signature_png())
    q.sign_questioning(ctx, qid)


def test_a_signed_questioning_prints_its_elements_on_every_page_and_verifies(ctx, subject, officers, tmp_path):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    qid = filled(ctx, inspection_id, questions=14)  # long enough for several pages
    sign_everyone(ctx, qid)
    record = q.load_questioning(ctx, qid)
    assert record.locked and record.content_hash == record.current_hash()
    assert record.number.startswith("示市监询〔")
    out = print_questioning(ctx, qid, tmp_path / "q.pdf")
    from pypdf import PdfReader

    pages = [" ".join(p.extract_text().split()) for p in PdfReader(str(out)).pages]
    assert len(pages) >= 2
    assert all("被询问人签名" in p and "第" in p for p in pages)  # the person signs every page
    text = "".join(pdf_text(out).split())
    inspection = svc.load_inspection(ctx, inspection_id)
    for element in ("询问笔录", record.number, "询问时间", "询问地点", "示例市西园路1号", "李小梅", "女",
                    "410102199001011234", "示例美妆店", "店长", "13800000001", "当事人的店长",
                    "记录人", "赵六", "执法证号", officers[0].cert_no, officers[1].cert_no, "告知事项",
                    "申请回避", "看清楚了", "不申请", "问：第1个问题", "答：从批发市场。", "问：第14个问题",
                    "以上笔录我已看过，与我说的相符", inspection.number, "共"):
        assert element in text, element
    assert text.index("第1个问题") < text.index("第2个问题") < text.index("第14个问题")
    payload = make_payload(record, q.FORM)
    assert payload in decode_qr(out)
    verdict = verify_payload(ctx, payload)
    assert verdict.ok and record.number in verdict.message
    # the database itself refuses to change it (db.document_lock) ...
    from sqlalchemy import text as sql

    with pytest.raises(RecordLocked):
        with ctx.engine.begin() as conn:
            conn.execute(sql("UPDATE questionings SET content_json='{}' WHERE id=:i"), {"i": qid})
    # ... and a row tampered with behind its back (the triggers dropped) no longer verifies
    from db import document_lock

    with ctx.engine.begin() as conn:
        document_lock.drop(conn)

        content = json.loads(conn.execute(sql("SELECT content_json FROM questionings WHERE id=:i"), {"i": qid}).scalar())
        content["qa"][0]["a"] = "改过的回答"
        conn.execute(sql("UPDATE questionings SET content_json=:c WHERE id=:i"),
                     {"c": json.dumps(content, ensure_ascii=False), "i": qid})
    assert not verify_payload(ctx, payload).ok


def test_the_list_is_ordered_and_edited_and_signing_checks_everything(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    draft = q.create_questioning(ctx, inspection_id=inspection_id)
    for text in ("甲", "乙", "丙"):
        q.add_qa(ctx, draft.id, text, "答" + text)
    q.move_qa(ctx, draft.id, 2, 0)
    q.edit_qa(ctx, draft.id, 1, "甲改", "答甲改")
    record = q.remove_qa(ctx, draft.id, 2)
    assert [item["q"] for item in record.qa] == ["丙", "甲改"]
    with pytest.raises(InvalidInput, match="问题不能为空"):
        q.add_qa(ctx, draft.id, "  ", "x")
    with pytest.raises(InvalidInput, match="没有第 9 个问答"):
        q.remove_qa(ctx, draft.id, 8)
    with pytest.raises(InvalidInput, match="确认意见"):  # the person signs after reading it
        q.add_signature(ctx, draft.id, q.PERSON_ROLE, "李小梅", signature_png())
    with pytest.raises(InvalidInput, match="被询问人缺少姓名、身份证件号码.*未填写记录人.*尚未签名"):
        q.sign_questioning(ctx, draft.id)
    assert len(q.load_questioning(ctx, draft.id).qa) == 2  # refused: nothing changed
    # a change after a signature drops it: what was signed is what is kept
    q.set_person(ctx, draft.id, **PERSON)
    q.set_details(ctx, draft.id, recorder="赵六", confirmation=q.DEFAULT_CONFIRMATION)
    q.add_signature(ctx, draft.id, q.PERSON_ROLE, "李小梅", signature_png())
    assert q.PERSON_ROLE not in q.add_qa(ctx, draft.id, "丁", "答丁").signatures


def test_one_officer_cannot_sign_a_questioning(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    qid = filled(ctx, inspection_id)
    q.set_officers(ctx, qid, [officers[0]])
    q.set_details(ctx, qid, confirmation=q.DEFAULT_CONFIRMATION)
    for role in q.signature_roles(q.load_questioning(ctx, qid)):
        q.add_signature(ctx, qid, role, "某", signature_png())
    with pytest.raises(InvalidInput, match="两名以上持有执法证件"):
        q.sign_questioning(ctx, qid)
    assert not q.load_questioning(ctx, qid).locked


def test_a_signed_questioning_is_locked_in_the_services_and_the_orm(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    qid = filled(ctx, inspection_id)
    sign_everyone(ctx, qid)
    with pytest.raises(RecordLocked):
        q.add_qa(ctx, qid, "再问一个", "不行")
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.get(Questioning, qid).content_json = "{}"
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.delete(s.get(Questioning, qid))
    assert len(q.load_questioning(ctx, qid).qa) == 3


def test_numbers_run_in_their_own_series_and_are_audited(ctx, subject, officers):
    from db.models import AuditEntry

    inspection_id = signed_inspection(ctx, subject.id, officers)
    first = q.create_questioning(ctx, inspection_id=inspection_id)
    second = q.create_questioning(ctx, subject_id=subject.id, officers=officers)
    year = first.number.split("〔")[1][:4]
    assert first.number == f"示市监询〔{year}〕1号" and second.number == f"示市监询〔{year}〕2号"
    assert second.inspection_id is None and second.party["name"] == subject.name
    assert [r.number for r in q.list_questionings(ctx, inspection_id)] == [first.number]
    with ctx.transaction() as s:
        assert s.query(AuditEntry).filter_by(table_name="questionings").count() >= 2
    with pytest.raises(InvalidInput, match="须关联"):
        q.create_questioning(ctx)


def test_an_inspector_without_the_permission_is_refused(ctx, subject, officers):
    from core.users import PermissionDenied, UserRow

    inspection_id = signed_inspection(ctx, subject.id, officers)
    ctx.user = UserRow(id="x", name="网格员", role="grid_worker", cert_no="", grid="", can_log_in=True)
    with pytest.raises(PermissionDenied):
        q.create_questioning(ctx, inspection_id=inspection_id)


def test_a_draft_is_voided_with_its_number_registered_and_a_signed_one_cannot_be(ctx, subject, officers, capsys):
    import main
    from core.void_register import list_voided, void_questioning

    inspection_id = signed_inspection(ctx, subject.id, officers)
    draft = filled(ctx, inspection_id, questions=1)
    with pytest.raises(InvalidInput, match="请填写作废原因"):
        void_questioning(ctx, draft, "  ")
    assert q.load_questioning(ctx, draft).status == "draft"
    number = q.load_questioning(ctx, draft).number
    code = main.main(["paperwork", "void-questioning", "--db", str(ctx.engine.url.database), "--questioning", number,
                      "--reason", "被询问人身份填错"])
    out, err = capsys.readouterr()
    assert code == 0 and number in out, err
    voided = q.load_questioning(ctx, draft)
    assert voided.status == "voided" and len(voided.qa) == 1  # nothing entered is lost
    [entry] = [v for v in list_voided(ctx) if v.number == number]
    assert entry.doc_kind == "questioning" and entry.reason == "被询问人身份填错"
    with pytest.raises(InvalidInput, match="已作废"):
        q.add_qa(ctx, draft, "再问", "")
    with pytest.raises(InvalidInput, match="已作废"):
        void_questioning(ctx, draft, "再作废一次")
    signed = filled(ctx, inspection_id)
    sign_everyone(ctx, signed)
    with pytest.raises(RecordLocked, match="不能作废"):
        void_questioning(ctx, signed, "想作废")
    assert q.load_questioning(ctx, signed).locked
    # the next number is a new one: a voided number is never issued again
    assert q.create_questioning(ctx, inspection_id=inspection_id).number not in {number}
