"""Document numbers: pattern, per-year sequence, never reused, unique across devices."""
from __future__ import annotations

import pytest

from core.errors import WorkflowError
from core.numbering import DEVICE_BLOCK, format_number, next_number


def test_format_matches_official_pattern():
    assert format_number("连市监药检", 2026, 12) == "连市监药检〔2026〕12号"


def test_sequence_grows_per_kind_and_year(ctx):
    with ctx.transaction() as s:
        a = next_number(s, kind="inspection", prefix="P", year=2026, device_no=0)
        b = next_number(s, kind="inspection", prefix="P", year=2026, device_no=0)
        c = next_number(s, kind="rectification", prefix="R", year=2026, device_no=0)
        d = next_number(s, kind="inspection", prefix="P", year=2027, device_no=0)
    assert (a, b, c, d) == ("P〔2026〕1号", "P〔2026〕2号", "R〔2026〕1号", "P〔2027〕1号")


def test_numbers_are_never_reused(ctx):
    with ctx.transaction() as s:
        first = next_number(s, kind="inspection", prefix="P", year=2026, device_no=0)
    with ctx.transaction() as s:
        second = next_number(s, kind="inspection", prefix="P", year=2026, device_no=0)
    assert first != second


def test_devices_never_collide(tmp_path):
    from core.context import AppContext

    numbers = set()
    for device_no in (0, 1, 2):
        laptop = AppContext.open(tmp_path / f"laptop{device_no}.db")
        with laptop.transaction() as s:
            for _ in range(5):
                numbers.add(next_number(s, kind="inspection", prefix="P", year=2026, device_no=device_no))
        laptop.close()
    assert len(numbers) == 15
    assert f"P〔2026〕{DEVICE_BLOCK + 1}号" in numbers


def test_block_exhaustion_is_a_clear_error(ctx):
    from db.models import DocumentCounter

    with ctx.transaction() as s:
        s.add(DocumentCounter(kind="inspection", year=2026, last_seq=DEVICE_BLOCK - 1))
    with pytest.raises(WorkflowError, match="编号已用完"):
        with ctx.transaction() as s:
            next_number(s, kind="inspection", prefix="P", year=2026, device_no=0)
