"""The officer-signature benchmark (tests/perf/officer_keys_bench.py) runs and gives its figures (none asserted)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_officer_keys_bench_tiny():
    result = subprocess.run([sys.executable, "-m", "tests.perf.officer_keys_bench", "--n", "20", "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["signatures"] == 40
    assert set(figures) == {"signatures", "check_us_per_signature", "bare_verify_us", "sign_us_per_signature",
                            "unwrap_ms"}
    print(figures)
