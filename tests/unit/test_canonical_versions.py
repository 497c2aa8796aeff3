"""The canonical form the content hash covers is versioned: a record signed before the legal
fields existed (canonical v1) keeps its hash; records signed now use v2, which adds them."""
from __future__ import annotations

import json

from core.checklists import checklists_dir, load_template_file
from core.inspections import content_hash, record_from_rows

# Computed with the code at main 9535805 (before canonical versions existed) from the rows below.
V1_HASH = "32141d646e0914e8806ef561a6e6003c6c959da0bdb47b6ef2dfb49f84c25160"


def _rows(**extra):
    template = load_template_file(checklists_dir() / "cosmetics-531.v1.json")
    row = {
        "id": "0190a000-0000-7000-8000-000000000001", "number": "连市监药检〔2026〕1号", "status": "signed",
        "kind": "enforcement", "purpose": "regular", "subject_id": "0190a000-0000-7000-8000-000000000002",
        "party_json": json.dumps({"name": "测试店", "credit_code": "91350100M000100Y43"}, ensure_ascii=False),
        "place": "测试路1号", "notified_by": "现场告知", "started_at": "2026-03-01T09:30:00",
        "ended_at": "2026-03-01T10:20:00", "findings": "发现问题", "party_statement": "无异议",
        "party_present_name": "张三", "party_refused": False, "witness_name": "",
        "completed_at": "2026-03-01T10:25:00", "signed_at": "2026-03-01T10:30:00", "content_hash": None,
        **extra,
    }
    return dict(
        row=row, template=template, template_json=template.to_json(),
        officers=[{"name": "王建国", "cert_no": "41170021001", "position": 0},
                  {"name": "李秀英", "cert_no": "41170021002", "position": 1}],
        results=[{"item_code": "B2", "result": "fail", "note": "1批次无备案信息"},
                 {"item_code": "A1", "result": "pass", "note": ""}],
        photos=[], signatures=[{"role": "party", "signer_name": "张三", "sha256": "a" * 64,
                                "signed_at": "2026-03-01T10:28:00"}],
        rectification={"number": "连市监药改〔2026〕1号", "deadline": "2026-03-16", "requirements": "改正",
                       "status": "open"},
    )


def _record(**extra):
    rows = _rows(**extra)
    return record_from_rows(rows.pop("row"), rows.pop("template"), rows.pop("template_json"), **rows)


def test_a_record_signed_under_canonical_v1_keeps_its_hash():
    assert content_hash(_record()) == V1_HASH
