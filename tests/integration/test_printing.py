"""Printed forms: titles, party, failed items, embedded fonts, page count, QR that verifies."""
from __future__ import annotations

import pytest

from core import inspections as svc
from core.errors import InvalidInput
from core.printing import print_form
from core.verification import make_payload, verify_payload
from tests.integration.helpers import signed_inspection
from tests.integration.pdfcheck import decode_qr, pdf_fonts, pdf_text

FAILURES = {"B2": "1批次无备案信息", "D1": "2个批次无中文标签", "G1": "无进货查验记录"}


@pytest.fixture
def signed(ctx, subject, officers):
    return svc.load_inspection(ctx, signed_inspection(ctx, subject.id, officers, FAILURES))


@pytest.mark.parametrize("form, title", [("record", "现场检查笔录"), ("checklist", "检查记录表"),
                                         ("rectification", "责令改正通知书")])
def test_form_holds_title_party_and_every_failed_item(ctx, signed, tmp_path, form, title):
    out = print_form(ctx, signed.number, form, tmp_path / f"{form}.pdf")
    text = pdf_text(out).replace("\n", "")
    assert title in text
    assert signed.party["name"] in text
    for failed in signed.failed_items():
        assert failed.note in text
    assert "第 1 页 共" in text
    for name, embedded in pdf_fonts(out):
        assert embedded, f"font {name} is not embedded"


def test_every_page_has_page_count_and_signature_lines(ctx, signed, tmp_path):
    from pypdf import PdfReader

    out = print_form(ctx, signed.id, "checklist", tmp_path / "c.pdf")
    pages = PdfReader(str(out)).pages
    assert len(pages) > 1
    for n, page in enumerate(pages, 1):
        text = page.extract_text()
        assert f"第 {n} 页 共 {len(pages)} 页" in text
        assert "当事人签名" in text and "执法人员签名" in text


def test_rectification_states_deadline_and_rights(ctx, signed, tmp_path):
    out = print_form(ctx, signed.id, "rectification", tmp_path / "r.pdf")
    text = pdf_text(out).replace("\n", "")
    d = signed.rectification.deadline
    assert f"{d.year}年{d.month}月{d.day}日前改正" in text
    assert "六十日内" in text and "六个月内" in text
    assert signed.rectification.number in text


def test_refusal_is_noted_on_the_record(ctx, subject, officers, tmp_path):
    inspection_id = signed_inspection(ctx, subject.id, officers, refused=True)
    text = pdf_text(print_form(ctx, inspection_id, "record", tmp_path / "r.pdf"))
    assert "当事人拒绝签字" in text and "孙丽" in text


def test_no_rectification_form_without_failures(ctx, subject, officers, tmp_path):
    inspection_id = signed_inspection(ctx, subject.id, officers, failures={})
    with pytest.raises(Exception) as exc:
        print_form(ctx, inspection_id, "rectification", tmp_path / "r.pdf")
    assert "没有" in str(exc.value)
    assert not (tmp_path / "r.pdf").exists()


def test_draft_prints_with_a_draft_mark(ctx, subject, officers, tmp_path):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    text = pdf_text(print_form(ctx, inspection_id, "checklist", tmp_path / "d.pdf"))
    assert "草稿" in text


@pytest.mark.parametrize("form", ["record", "checklist", "rectification"])
def test_qr_decodes_to_a_payload_that_verifies(qapp, ctx, signed, tmp_path, form):
    out = print_form(ctx, signed.id, form, tmp_path / f"{form}.pdf")
    payloads = decode_qr(out)
    assert payloads == [make_payload(signed, form)]
    verdict = verify_payload(ctx, payloads[0])
    assert verdict.ok, verdict.message


def test_unknown_form_is_refused(ctx, signed, tmp_path):
    with pytest.raises(InvalidInput):
        print_form(ctx, signed.id, "letter", tmp_path / "x.pdf")
