"""The attachments benchmark (tests/perf/attachments_bench.py) at a tiny size: it runs and gives its figures.

No timing is asserted: the figures are for docs/performance.md, not a gate.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_attachments_bench_tiny():
    proc = subprocess.run(
        [sys.executable, "-m", "tests.perf.attachments_bench", "--photos", "3", "--width", "200", "--height", "150",
         "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["photos"] == 3 and result["migrated"] == 3
    for key in ("add_plain_ms", "add_encrypted_ms", "read_plain_ms", "read_encrypted_ms", "add_ratio", "read_ratio",
                "migrate_mb_per_s", "mean_photo_mb"):
        assert isinstance(result[key], (int, float)) and result[key] > 0, key
