"""The CLI end to end for the void register and corrections: ``numbers`` and ``correct``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.pdfcheck import pdf_text
from tests.integration.test_cli import _inspections, run


@pytest.fixture(scope="module")
def demo_db(demo_template, tmp_path_factory) -> Path:
    """This module's demo station: a copy of the suite's (tests/conftest.py ``demo_template``)."""
    from tests.support.stations import copy_station

    return copy_station(demo_template, tmp_path_factory.mktemp("cli-numbers"))


def test_void_a_draft_then_list_and_print_the_register(demo_db, tmp_path):
    empty = run("numbers", "voided", "--db", str(demo_db), "--json")
    assert empty.returncode == 0 and json.loads(empty.stdout) == []
    draft = next(r for r in _inspections(demo_db) if r["status"] == "draft")
    no_reason = run("numbers", "void", "--db", str(demo_db), "--inspection", draft["number"], "--reason", " ")
    assert no_reason.returncode == 2 and no_reason.stderr.strip() == "错误：请填写作废原因"
    done = run("numbers", "void", "--db", str(demo_db), "--inspection", draft["number"], "--reason", "误开检查")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"已作废：{draft['number']}"
    listed = run("numbers", "voided", "--db", str(demo_db), "--json")
    rows = json.loads(listed.stdout)
    assert [(r["number"], r["kind"], r["reason"], r["voided_by"]) for r in rows] == [
        (draft["number"], "inspection", "误开检查", "系统")]
    assert {r["status"] for r in _inspections(demo_db) if r["id"] == draft["id"]} == {"voided"}
    again = run("numbers", "void", "--db", str(demo_db), "--inspection", draft["number"], "--reason", "再来")
    assert again.returncode == 2 and "已作废" in again.stderr
    out = tmp_path / "voided.pdf"
    printed = run("numbers", "print", "--db", str(demo_db), "--out", str(out))
    assert printed.returncode == 0, printed.stderr
    assert draft["number"] in pdf_text(out) and "误开检查" in pdf_text(out)


def test_correct_a_signed_record_approve_and_verify_the_original(demo_db, tmp_path, qapp):
    from core import inspections as svc
    from core.context import AppContext
    from tests.integration.helpers import sign_all
    from tests.integration.pdfcheck import decode_qr

    signed = next(r for r in _inspections(demo_db) if r["status"] == "signed")
    started = run("correct", "--db", str(demo_db), "--of", signed["number"], "--statement", "更正当事人陈述",
                  "--reason", "记录笔误", "--json")
    assert started.returncode == 0, started.stderr
    made = json.loads(started.stdout)
    assert made["original"] == signed["number"] and made["number"] != signed["number"]
    early = run("approve-correction", "--db", str(demo_db), "--inspection", made["number"])
    assert early.returncode == 2 and "请先完成" in early.stderr
    ctx = AppContext.open(demo_db)
    try:
        svc.update_details(ctx, made["id"], party_statement="对检查结果无异议（更正）")
        svc.complete_inspection(ctx, made["id"])
    finally:
        ctx.close()
    approved = run("approve-correction", "--db", str(demo_db), "--inspection", made["number"])
    assert approved.returncode == 0 and f"已批准更正 {made['number']}" in approved.stdout
    ctx = AppContext.open(demo_db)
    try:
        sign_all(ctx, made["id"], refused=svc.load_inspection(ctx, made["id"]).party_refused)
    finally:
        ctx.close()
    original_pdf, correction_pdf = tmp_path / "original.pdf", tmp_path / "correction.pdf"
    for number, out in ((signed["number"], original_pdf), (made["number"], correction_pdf)):
        result = run("print", "--db", str(demo_db), "--inspection", number, "--form", "record", "--out", str(out))
        assert result.returncode == 0, result.stderr
    original = run("verify", "--db", str(demo_db), decode_qr(original_pdf)[0])
    assert original.returncode == 0 and original.stdout.startswith(f"已更正，见 {made['number']}")
    own = run("verify", "--db", str(demo_db), decode_qr(correction_pdf)[0])
    assert own.returncode == 0 and "核验通过" in own.stdout and "已更正" not in own.stdout
    assert f"本文书更正原 {signed['number']}" in pdf_text(correction_pdf)
    twice = run("correct", "--db", str(demo_db), "--of", signed["number"], "--statement", "又", "--reason", "又")
    assert twice.returncode == 2 and f"已更正，见 {made['number']}" in twice.stderr
