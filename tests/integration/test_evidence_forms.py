"""先行登记保存证据通知书 (范本 19) with its item list and its 解除, and 送达地址确认书 (范本 10):
own number series, the lock, the printed elements, the QR; bad input refused with nothing written."""
from __future__ import annotations

from datetime import datetime

import pytest

from core.casework import evidence as ev
from core.casework.store import list_case_documents
from core.errors import InvalidInput, RecordLocked
from core.printing import print_case_document
from core.verification import make_payload, verify_payload
from db.models import CaseDocument
from tests.integration.helpers import signed_inspection
from tests.integration.pdfcheck import decode_qr, pdf_text

ITEMS = [{"name": "某某保湿乳", "spec": "50ml/瓶", "batch": "20260301", "quantity": "12瓶", "kept_at": "店内仓库东侧货架"},
         {"name": "某某面膜", "spec": "25g×5片/盒", "batch": "B2026-02", "quantity": "6盒", "kept_at": "店内仓库东侧货架"}]


def text_of(path) -> str:
    return "".join(pdf_text(path).split())


def hold(ctx, inspection_id, **kw):
    args = dict(cause="经营未备案的化妆品", items=ITEMS, place="当事人经营场所仓库", approved_by="所长王",
                start=datetime(2026, 5, 12, 10, 0))
    args.update(kw)
    return ev.hold_evidence(ctx, inspection_id, **args)


def test_a_hold_notice_lists_its_items_and_is_lifted_once(ctx, subject, officers, tmp_path):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    notice = hold(ctx, inspection_id)
    assert notice.locked and notice.number.startswith("示市监先保〔") and notice.content["until"] == "2026-05-19"
    out = print_case_document(ctx, notice.id, tmp_path / "hold.pdf")
    text = text_of(out)
    for element in ("先行登记保存证据通知书", notice.number, subject.name, "经营未备案的化妆品", "《中华人民共和国行政处罚法》第五十六条",
                    "七日", "物品名称", "规格", "批号", "数量", "存放地点", "某某保湿乳", "50ml/瓶", "20260301", "12瓶",
                    "店内仓库东侧货架", "某某面膜", "6盒", "2026年5月19日", "（印章）", "当事人签名"):
        assert element in text, element
    assert decode_qr(out) == [make_payload(notice, "evidence_hold")]
    assert verify_payload(ctx, make_payload(notice, "evidence_hold")).ok
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.get(CaseDocument, notice.id).content_json = "{}"
    with pytest.raises(InvalidInput, match="解除时间不能早于"):
        ev.release_evidence(ctx, notice.id, reason="经检验合格", released_at=datetime(2026, 5, 1))
    release = ev.release_evidence(ctx, notice.number, reason="经核查，上述物品已在备案系统备案",
                                  released_at=datetime(2026, 5, 15, 9, 0))
    assert release.locked and release.parent_id == notice.id and release.number.startswith("示市监解保〔")
    assert ev.hold_state(ctx, notice.id) == f"已解除（{release.number}）"
    with pytest.raises(InvalidInput, match="已由"):
        ev.release_evidence(ctx, notice.id, reason="再解除一次")
    text = text_of(print_case_document(ctx, release.id, tmp_path / "release.pdf"))
    for element in ("解除先行登记保存证据通知书", release.number, notice.number, "已在备案系统备案", "某某保湿乳",
                    "2026年5月15日", "解除先行登记保存"):
        assert element in text, element
    assert verify_payload(ctx, make_payload(release, "evidence_release")).ok


@pytest.mark.parametrize("change, needle", [
    ({"items": []}, "至少一项物品"),
    ({"items": [{"name": "保湿乳", "quantity": "", "kept_at": "仓库"}]}, "第 1 项物品缺少数量"),
    ({"items": [{"name": "保湿乳", "quantity": "1", "kept_at": "仓库", "price": "9"}]}, "未知项目"),
    ({"approved_by": " "}, "请填写批准的负责人"),
    ({"cause": ""}, "请填写涉嫌违法行为"),
])
def test_a_bad_hold_notice_is_refused_and_takes_no_number(ctx, subject, officers, change, needle):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    with pytest.raises(InvalidInput, match=needle):
        hold(ctx, inspection_id, **change)
    assert list_case_documents(ctx) == []
    assert hold(ctx, inspection_id).number.endswith("〕1号")  # no number was used up


def test_an_unsigned_inspection_cannot_hold_evidence(ctx, subject, officers):
    from core import inspections as svc

    draft = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    with pytest.raises(InvalidInput, match="尚未签名锁定"):
        hold(ctx, draft)
    with pytest.raises(InvalidInput, match="尚未签名锁定"):
        ev.confirm_address(ctx, draft, recipient="张三", address="某地", phone="138")


def test_the_address_confirmation_prints_its_elements_and_verifies(ctx, subject, officers, tmp_path):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    with pytest.raises(InvalidInput, match="邮政编码"):
        ev.confirm_address(ctx, inspection_id, recipient="张三", address="驿城区测试路1号", phone="13800000000",
                           postcode="4630")
    confirm = ev.confirm_address(ctx, inspection_id, recipient="张三", address="驻马店市驿城区测试路1号",
                                 phone="13800000000", postcode="463000", addressee="李小梅",
                                 electronic="短信 13800000000")
    assert confirm.locked and confirm.number.startswith("示市监址〔")
    out = print_case_document(ctx, confirm.id, tmp_path / "address.pdf")
    text = text_of(out)
    for element in ("送达地址确认书", confirm.number, "受送达人", "张三", "送达地址", "驻马店市驿城区测试路1号", "463000",
                    "13800000000", "收件人", "李小梅", "同意，电子送达方式：短信13800000000", "文书退回之日视为送达之日",
                    "受送达人签名", "送达人"):
        assert element in text, element
    assert decode_qr(out) == [make_payload(confirm, "address_confirm")]
    assert verify_payload(ctx, make_payload(confirm, "address_confirm")).ok


def test_consent_to_electronic_service_needs_the_way(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    with pytest.raises(InvalidInput, match="须写明电子送达方式"):
        ev.confirm_address(ctx, inspection_id, recipient="张三", address="某地", phone="138", consent=True)
    assert list_case_documents(ctx, kind="address_confirm") == []
    refused = ev.confirm_address(ctx, inspection_id, recipient="张三", address="某地", phone="138",
                                 electronic="短信 138", consent=False)
    assert refused.content["electronic"] == ""  # refused: no way kept, printed 不同意
