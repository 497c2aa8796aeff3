"""整改复查意见书: printed from the re-inspection, citing the original order; 整改到位 or 未整改到位."""
from __future__ import annotations

import pytest

from core import inspections as svc
from core.errors import NotFound
from core.inspections import fact_text
from core.printing import print_form
from core.tasks import list_tasks, start_task
from core.verification import make_payload, verify_payload
from tests.integration.helpers import answer_all, sign_all, signed_inspection
from tests.integration.pdfcheck import decode_qr, pdf_text

FAILURES = {"B2": "1批次无备案信息", "G1": "无进货查验记录"}


def reinspect(ctx, officers, failures, *, sign=True) -> str:
    [task] = [t for t in list_tasks(ctx, status="open") if t.rectification_id]
    inspection_id = start_task(ctx, task.id, officers)
    answer_all(ctx, inspection_id, failures)
    svc.update_details(ctx, inspection_id, party_present_name="张三")
    svc.complete_inspection(ctx, inspection_id)
    if sign:
        sign_all(ctx, inspection_id)
    return inspection_id


def text_of(path) -> str:
    return "".join(pdf_text(path).split())


@pytest.mark.parametrize("failures, conclusion, follows", [
    ({}, "■整改到位□未整改到位", "本次责令改正事项办结"),
    ({"G1": "仍无进货查验记录"}, "□整改到位■未整改到位", "本机关将依法立案调查处理（立案建议）"),
])
def test_the_review_cites_the_order_and_each_item(ctx, subject, officers, tmp_path, failures, conclusion, follows):
    original = svc.load_inspection(ctx, signed_inspection(ctx, subject.id, officers, FAILURES))
    review_id = reinspect(ctx, officers, failures)
    record = svc.load_inspection(ctx, review_id)
    out = print_form(ctx, review_id, "review", tmp_path / "review.pdf")
    text = text_of(out)
    for element in ("整改复查意见书", f"{record.number}复查意见", original.rectification.number, original.number,
                    record.number, "B2", "G1", *(fact_text(original, f) for f in original.order_items()), "复查结果", conclusion, follows,
                    "（印章）", "当事人签收"):
        assert element.replace(" ", "") in text, element
    outcomes = ["未改正" if code in failures else "已改正" for code in ("B2", "G1")]
    assert text.count("已改正") == outcomes.count("已改正") and text.count("未改正") == outcomes.count("未改正")
    payload = make_payload(record, "review")
    assert decode_qr(out) == [payload]
    assert verify_payload(ctx, payload).ok


def test_only_a_reinspection_has_one(ctx, subject, officers, tmp_path):
    original = signed_inspection(ctx, subject.id, officers, FAILURES)
    with pytest.raises(NotFound, match="不是整改复查"):
        print_form(ctx, original, "review", tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()
    draft = reinspect(ctx, officers, {}, sign=False)  # a draft prints (marked 草稿) and finds its order by the task
    assert "草稿" in text_of(print_form(ctx, draft, "review", tmp_path / "d.pdf"))
