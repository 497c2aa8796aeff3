"""The benchmark harness itself (tests/perf): valid generated data, every figure produced.

No timing is asserted here: the figures are for docs/performance.md, not a gate.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import json
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from core import creditcode
from core.checklists import load_templates, template_from_snapshot
from core.context import AppContext
from core.inspections import party_snapshot, completion_problems, load_inspection, signature_roles
from core.numbering import DEVICE_BLOCK
from core.subjects import CATEGORIES
from core.verification import make_payload, verify_payload
from db.models import Subject
from tests.perf import bench, generate

ROOT = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"^(?P<prefix>.+)〔(?P<year>\d{4})〕(?P<seq>\d+)号$")


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("perf") / "small.db"
    assert generate.main(["--db", str(path), "--scale", "small", "--seed", "7"]) == 0
    return path


@pytest.fixture(scope="module")
def con(small_db):
    connection = rawdb.connect(small_db)
    connection.row_factory = rawdb.row_type(connection)
    yield connection
    connection.close()


def test_counts_and_register(con):
    scale = generate.SCALES["small"]
    assert con.execute("SELECT count(*) FROM subjects").fetchone()[0] == scale.subjects
    inspections = con.execute("SELECT count(*) FROM inspections").fetchone()[0]
    assert abs(inspections - scale.inspections) <= scale.inspections * 0.05
    purposes = dict(con.execute("SELECT purpose, count(*) FROM inspections GROUP BY purpose").fetchall())
    assert purposes.get("reinspection", 0) > 0
    statuses = dict(con.execute("SELECT status, count(*) FROM inspections GROUP BY status").fetchall())
    assert set(statuses) == {"draft", "completed", "signed"}
    assert set(r[0] for r in con.execute("SELECT DISTINCT category FROM subjects")) == set(CATEGORIES)
    codes = [r[0] for r in con.execute("SELECT credit_code FROM subjects")]
    assert len(codes) == scale.subjects
    missing = sum(1 for c in codes if c is None)
    assert 0.05 * len(codes) <= missing <= 0.15 * len(codes)
    assert all(creditcode.is_valid(c) for c in codes if c is not None)
    assert all(c != "" for c in codes)  # no code is NULL, never an empty string (unique index)


def test_snapshots_answers_and_orders(con):
    templates = {code: t.to_json() for code, t in load_templates().items()}
    subjects = {r["id"]: r for r in con.execute("SELECT * FROM subjects")}
    results: dict[str, dict[str, tuple]] = {}
    for r in con.execute("SELECT inspection_id, item_code, result, note FROM item_results"):
        results.setdefault(r[0], {})[r[1]] = (r[2], r[3])
    rect_of = {r[0] for r in con.execute("SELECT inspection_id FROM rectifications")}
    item_codes: dict[str, list[str]] = {}
    failed_checked = 0
    for i in con.execute("SELECT inspections.*, template_snapshots.json AS template_json FROM inspections "
                         "JOIN template_snapshots ON template_snapshots.sha256 = inspections.template_sha"):
        snapshot = i["template_json"]
        if i["purpose"] == "regular":
            assert snapshot == templates[i["template_code"]]
        if snapshot not in item_codes:
            item_codes[snapshot] = [item.code for item in template_from_snapshot(snapshot).items]
        codes = item_codes[snapshot]
        answers = results.get(i["id"], {})
        if i["status"] == "draft":
            assert set(answers) <= set(codes)
        else:
            assert sorted(answers) == sorted(codes), i["number"]
        assert i["party_json"] == party_snapshot(Subject(**dict(subjects[i["subject_id"]])))
        failed = [code for code, (result, note) in answers.items() if result == "fail"]
        failed_checked += len(failed)
        assert all(answers[code][1].strip() for code in failed)
        due = bool(failed) and i["status"] != "draft" and i["purpose"] == "regular"
        assert (i["id"] in rect_of) == due, i["number"]
    assert failed_checked > 0  # some failed items had their notes checked
    closed = con.execute("SELECT count(*) FROM rectifications r JOIN inspections i ON i.id = r.reinspection_id "
                         "WHERE r.status IN ('closed', 'case_recommended') AND i.purpose = 'reinspection'").fetchone()[0]
    assert closed == con.execute("SELECT count(*) FROM rectifications WHERE status != 'open'").fetchone()[0] > 0


def test_document_numbers_unique_and_counted(con):
    for table in ("inspections", "rectifications"):
        numbers = [r[0] for r in con.execute(f"SELECT number FROM {table}")]
        assert len(numbers) > 0, table
        assert len(numbers) == len(set(numbers))
        assert all(NUMBER.match(n) for n in numbers)
    prefix = dict(con.execute("SELECT key, value FROM settings").fetchall())["prefix.inspection"]
    for number, started in con.execute("SELECT number, started_at FROM inspections"):
        m = NUMBER.match(number)
        assert m["prefix"] == prefix and m["year"] == started[:4]
    # this device (device_no 0) issued seq 1..n per year, and the counters say n
    counters = {(k, y): s for k, y, s in con.execute("SELECT kind, year, last_seq FROM document_counters")}
    issued: Counter = Counter()
    for kind, table in (("inspection", "inspections"), ("rectification", "rectifications")):
        for (number,) in con.execute(f"SELECT number FROM {table}"):
            m = NUMBER.match(number)
            if int(m["seq"]) < DEVICE_BLOCK:
                issued[(kind, int(m["year"]))] += 1
    assert issued and counters == dict(issued)


def test_signed_records_verify(small_db, con):
    ctx = AppContext.open(small_db)
    try:
        picks = [r[0] for r in con.execute(
            "SELECT id FROM inspections WHERE status = 'signed' ORDER BY number LIMIT 12")]
        picks += [r[0] for r in con.execute(
            "SELECT id FROM inspections WHERE status = 'signed' AND purpose = 'reinspection' LIMIT 4")]
        picks += [r[0] for r in con.execute(
            "SELECT inspection_id FROM rectifications ORDER BY number LIMIT 4")]
        picks += [r[0] for r in con.execute(
            "SELECT id FROM inspections WHERE status = 'signed' AND party_refused = 1 LIMIT 2")]
        assert len(picks) >= 18
        for inspection_id in picks:
            record = load_inspection(ctx, inspection_id)
            assert record.content_hash == record.current_hash()
            assert set(record.signatures) == set(signature_roles(record))
            if record.purpose == "regular":
                assert completion_problems(record) == []
            forms = ["record", "checklist"] + (["rectification"] if record.rectification else [])
            for form in forms:
                verdict = verify_payload(ctx, make_payload(record, form))
                assert verdict.ok, (record.number, form, verdict.message)
    finally:
        ctx.close()


def test_audit_trail_is_one_valid_chain(small_db, con):
    from core.audit import verify_chain

    target = generate.SCALES["small"].audit_entries
    count = con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert target * 0.5 <= count <= target * 2
    ctx = AppContext.open(small_db)
    try:
        check = verify_chain(ctx)
        assert check.ok and check.entries == count, check.message
    finally:
        ctx.close()


def test_same_seed_same_data(tmp_path):
    scale = generate.Scale(subjects=60, inspections=150, stations=1)

    def digest(path):
        generate.generate(path, scale, 11, log=lambda _t: None)
        c = rawdb.connect(path)
        rows = c.execute("SELECT i.number, i.content_hash, s.name, s.credit_code FROM inspections i "
                         "JOIN subjects s ON s.id = i.subject_id ORDER BY i.number").fetchall()
        c.close()
        return rows

    first, second = digest(tmp_path / "a.db"), digest(tmp_path / "b.db")
    assert first and first == second


def test_bench_produces_every_figure(small_db):
    result = subprocess.run(
        [sys.executable, "-m", "tests.perf.bench", "--db", str(small_db), "--json", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    assert [f["name"] for f in figures] == list(bench.NAMES)
    for f in figures:
        assert set(bench.FIGURE_KEYS) <= set(f), f
        assert isinstance(f["value"], (int, float)) and f["value"] >= 0, f
        assert f["unit"] and (f["target"] is None or f["met"] in (True, False)), f
    with_baseline = {f["name"] for f in figures if f["baseline"] is not None and f["ratio"] is not None}
    assert {"subject_search_p95", "autosave_p95", "pdf_one", "sync_import", "sync_export"} <= with_baseline
