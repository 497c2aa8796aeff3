"""送达回证 (范本 10): direct service, 留置送达 with witness and photo/video, mail; the lock, the
printed elements, the QR, the CLI."""
from __future__ import annotations

from datetime import datetime

import pytest

from core import inspections as svc
from core.errors import InvalidInput, RecordLocked
from core.printing import print_service_receipt
from core.service_receipts import list_receipts, load_receipt, record_service
from core.verification import make_payload, verify_payload
from db.models import ServiceReceipt
from tests.integration.helpers import signed_inspection
from tests.integration.pdfcheck import decode_qr, pdf_text

WHEN = datetime(2026, 5, 12, 9, 30)
LEFT = dict(method="留置送达", recipient="驿城区测试化妆品店", place="驻马店市驿城区测试路1号", served_at=WHEN,
            refusal_reason="负责人称对检查结果有异议，拒绝签收", witness_name="孙丽", witness_unit="测试路社区居委会",
            media_ref="执法记录仪 DSJ-0342，2026-05-12 09:28-09:35；照片 留置-01.jpg")


def squeezed(path) -> str:
    return "".join(pdf_text(path).split())


def test_direct_service_of_the_order_prints_and_verifies(ctx, subject, officers, tmp_path):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    order = svc.load_inspection(ctx, inspection_id).rectification.number
    receipt = record_service(ctx, inspection_id, method="直接送达", recipient="张三", place="驻马店市驿城区测试路1号",
                             served_at=WHEN)
    assert receipt.locked and receipt.number.startswith("示市监送〔2026〕")
    out = print_service_receipt(ctx, receipt.id, tmp_path / "s.pdf")
    text = squeezed(out)
    for element in ("送达回证", receipt.number, "送达文书名称及文号", "责令改正通知书", order, "受送达人", "张三",
                    "送达地点", "驻马店市驿城区测试路1号", "送达方式", "直接送达", "送达时间", "2026年5月12日09时30分",
                    "受送达人签名或盖章", "送达人", officers[0].name, officers[0].cert_no, officers[1].cert_no,
                    "纸质签名文书"):
        assert element in text, element
    assert "留置" not in text.replace("留置送达的", "").replace("留在", "").split("说明")[0]
    payload = make_payload(receipt, "service")
    assert decode_qr(out) == [payload]
    assert verify_payload(ctx, payload).ok
    assert [r.number for r in list_receipts(ctx, inspection_id)] == [receipt.number]


def test_refusal_is_served_by_leaving_it_with_a_witness_and_photo(ctx, subject, officers, tmp_path):
    inspection_id = signed_inspection(ctx, subject.id, officers, refused=True)
    receipt = record_service(ctx, inspection_id, **LEFT)
    text = squeezed(print_service_receipt(ctx, receipt.id, tmp_path / "l.pdf"))
    for element in ("留置送达", "受送达人拒绝签收", "负责人称对检查结果有异议，拒绝签收", "见证人", "孙丽",
                    "测试路社区居委会", "见证人签名", "执法记录仪DSJ-0342", "留置-01.jpg", "视为送达"):
        assert element in text, element
    assert verify_payload(ctx, make_payload(receipt, "service")).ok


@pytest.mark.parametrize("missing, message", [
    ("refusal_reason", "留置送达须写明拒绝签收的理由"), ("witness_name", "见证人姓名"),
    ("witness_unit", "见证人单位"), ("media_ref", "拍照或录像的记录"),
])
def test_leaving_it_needs_reason_witness_and_media(ctx, subject, officers, missing, message):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    with pytest.raises(InvalidInput, match=message):
        record_service(ctx, inspection_id, **{**LEFT, missing: ""})
    assert list_receipts(ctx, inspection_id) == []


def test_other_refusals(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    with pytest.raises(InvalidInput, match="见证人不能是送达的执法人员"):
        record_service(ctx, inspection_id, **{**LEFT, "witness_name": officers[0].name})
    with pytest.raises(InvalidInput, match="请选“留置送达”"):
        record_service(ctx, inspection_id, method="直接送达", recipient="张三", place="店内", refusal_reason="拒收")
    with pytest.raises(InvalidInput, match="邮件号码"):
        record_service(ctx, inspection_id, method="邮寄送达", recipient="张三", place="测试路1号")
    with pytest.raises(InvalidInput, match="未知的送达方式"):
        record_service(ctx, inspection_id, method="公告", recipient="张三", place="测试路1号")
    clean = signed_inspection(ctx, subject.id, officers, failures={})
    with pytest.raises(InvalidInput, match="没有责令改正通知书"):
        record_service(ctx, clean, method="直接送达", recipient="张三", place="店内")
    assert list_receipts(ctx, inspection_id) == [] and list_receipts(ctx, clean) == []
    mailed = record_service(ctx, clean, document="record", method="邮寄送达", recipient="张三", place="测试路1号",
                            mail_no="EMS1234567890")
    assert mailed.content["document"]["name"] == "现场检查笔录"


def test_a_receipt_is_locked(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    receipt = record_service(ctx, inspection_id, **LEFT)
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.get(ServiceReceipt, receipt.id).content_json = "{}"
    assert load_receipt(ctx, receipt.number).content["witness_name"] == "孙丽"


def test_the_cli_records_and_prints_a_left_service(demo_copy, tmp_path):
    from core.context import AppContext
    from tests.integration.test_cli import run

    db = demo_copy
    ctx = AppContext.open(db)
    signed = next(r for r in svc.list_inspections(ctx) if r.status == "signed"
                  and svc.load_inspection(ctx, r.id).rectification is not None)
    ctx.close()
    out = tmp_path / "送达回证.pdf"
    args = ["serve", "--db", str(db), "--inspection", signed.number, "--method", "留置送达", "--recipient", "店主",
            "--place", "店内", "--reason", "拒绝签收", "--witness", "孙丽", "--out", str(out)]
    refused = run(*args)
    assert refused.returncode == 2 and refused.stderr.strip() == "错误：留置送达须写明见证人单位、拍照或录像的记录"
    assert not out.exists()
    done = run(*args, "--witness-unit", "社区居委会", "--media", "照片 留置-01.jpg")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("已登记送达回证：示市监送〔") and out.is_file()
    assert "留置送达" in squeezed(out)


def test_the_cli_offers_the_core_methods():
    from cli.paperwork import METHODS as CLI_METHODS
    from core.service_receipts import METHODS

    assert CLI_METHODS == METHODS
