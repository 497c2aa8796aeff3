"""The export benchmark (tests/perf/export_bench.py) at a tiny size: it makes its laptop, runs, and gives its figures."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.perf import generate

ROOT = Path(__file__).resolve().parents[2]


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.perf.export_bench", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_export_bench_tiny(tmp_path):
    db = tmp_path / "station.db"
    generate.generate(db, generate.Scale(subjects=60, inspections=80, stations=1, audit_entries=400), 3,
                      log=lambda _text: None)
    before = db.read_bytes()
    laptop = tmp_path / "kept"
    made = _bench("make", "--db", str(db), "--size", "12", "--laptop", str(laptop))
    assert made.returncode == 0, made.stderr[-3000:]
    assert json.loads(made.stdout)["inspections"] == 12
    assert db.read_bytes() == before  # the station is copied, not changed
    again = _bench("make", "--db", str(db), "--size", "12", "--laptop", str(laptop))
    assert again.returncode == 2 and "exists already" in again.stderr

    proc = _bench("run", "--laptop", str(laptop), "--turns", "2", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert len(result["turns"]) == 2 and result["same_bytes"]
    for turn in result["turns"]:
        assert turn["packages"] == 1 and turn["records"] > 12 * 3 and turn["export_s"] > 0 and turn["bare_s"] > 0
    assert result["ratio"] > 0
    assert sorted(p.name for p in laptop.iterdir() if p.name.startswith("export-bench.")) == []  # copies removed
