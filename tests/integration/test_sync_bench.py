"""The sync-import benchmark (tests/perf/sync_bench.py) at a tiny size: it runs and gives its figures.

No timing is asserted: the figures are for docs/performance.md, not a gate.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.perf import generate

ROOT = Path(__file__).resolve().parents[2]


def test_sync_bench_tiny(tmp_path):
    db = tmp_path / "station.db"
    generate.generate(db, generate.Scale(subjects=60, inspections=80, stations=1, audit_entries=400), 3,
                      log=lambda _text: None)
    before = db.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.perf.sync_bench", "--db", str(db), "--size", "20", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["inspections"] == 20
    assert result["summary"]["applied"] > 20 and result["summary"]["conflicts"] == 0
    assert result["counts_ok"] and result["chain_ok"] and result["reimport_ok"]
    assert result["rows_added"]["inspections"] == 20
    assert result["rows_added"]["item_results"] == result["counts"]["item_results"] > 0
    assert result["counts"]["signatures"] > 0 and result["attachments"] > 0
    assert result["officer_checks"] == 20 and result["officer_checks_s"] > 0
    for key in ("import_s", "records_per_s", "bare_s", "ratio", "target_s", "export_s", "bare_export_s", "export_ratio",
                "bare_with_bookkeeping_s", "ratio_to_bare_with_bookkeeping"):
        assert isinstance(result[key], (int, float)) and result[key] > 0, key
    assert db.read_bytes() == before  # the benchmark works on copies
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("station.db") or "sync-bench" in p.name] \
        == ["station.db"]  # copies removed


def test_sync_bench_several_packages(tmp_path, monkeypatch):
    """A batch the export splits (here: a 192 KB member bound, as 128 MB splits ~20,000 inspections):
    the benchmark imports every package in order, and its checks hold over all of them."""
    from core.sync import package as sync_package
    from tests.perf import sync_bench

    db = tmp_path / "station.db"
    generate.generate(db, generate.Scale(subjects=60, inspections=80, stations=1, audit_entries=400), 3,
                      log=lambda _text: None)
    monkeypatch.setattr(sync_package, "MAX_MEMBER_BYTES", 192 * 1024)
    result = sync_bench.run(db, 20)
    assert result["packages"] >= 2
    assert result["inspections"] == 20 == result["rows_added"]["inspections"]
    assert result["rows_added"]["item_results"] == result["counts"]["item_results"] > 0
    assert result["summary"]["conflicts"] == 0 and result["summary"]["applied"] == result["audit_entries_added"]
    assert result["counts_ok"] and result["chain_ok"] and result["reimport_ok"]


def test_sync_pg_bench_tiny(tmp_path, pg_server):
    """The PostgreSQL benchmark: the real import (COPY) and the real export up to a county, each
    with its bare baseline, on the tests' server."""
    from tests.perf import sync_pg_bench

    db = tmp_path / "station.db"
    generate.generate(db, generate.Scale(subjects=30, inspections=40, stations=1, audit_entries=100), 5,
                      log=lambda _text: None)
    result = sync_pg_bench.run(db, 6, server=pg_server)
    assert result["inspections"] == 6 and result["packages"] == 1
    assert result["counts_ok"] and result["chain_ok"] and result["summary"]["conflicts"] == 0
    added = result["rows_added"]
    assert added["inspections"] == 6 and added["item_results"] > 6
    assert added["audit_log"] == result["summary"]["applied"] - added["template_snapshots"]  # one a record
    assert result["export_counts"]["inspections"] == 6 and result["export_counts_ok"]
    for key in ("import_s", "officer_checks_s", "bare_copy_s", "ratio", "export_s", "bare_export_s", "export_ratio"):
        assert isinstance(result[key], (int, float)) and result[key] > 0, key
