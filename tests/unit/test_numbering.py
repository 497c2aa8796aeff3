"""Document numbers: pattern, per-year sequence, never reused, unique across devices."""
from __future__ import annotations

import pytest

from core.numbering import DEVICE_BLOCK, NumberParts, format_number, next_number, parse_number


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
    assert {"P〔2026〕1号", "P〔2026〕1-0001号", "P〔2026〕2-0005号"} <= numbers


def test_a_busy_device_never_runs_out(ctx):
    """No fixed block: a laptop past 9999 numbers goes on with five digits, still its own."""
    from db.models import DocumentCounter

    with ctx.transaction() as s:
        s.add(DocumentCounter(kind="inspection", year=2026, last_seq=DEVICE_BLOCK - 2))
    with ctx.transaction() as s:
        issued = [next_number(s, kind="inspection", prefix="P", year=2026, device_no=3) for _ in range(4)]
    assert issued == ["P〔2026〕3-9999号", "P〔2026〕3-10000号", "P〔2026〕3-10001号", "P〔2026〕3-10002号"]
    assert [parse_number(n).seq for n in issued] == [9999, 10000, 10001, 10002]
    assert {parse_number(n).device_no for n in issued} == {3}


def test_numbers_of_both_formats_parse():
    assert parse_number("连市监药检〔2026〕12号") == NumberParts("连市监药检", 2026, 0, 12)
    assert parse_number("连市监药检〔2026〕3-0012号") == NumberParts("连市监药检", 2026, 3, 12)
    # issued by laptop 3 before the device sub-number: 3*10000+12
    assert parse_number("连市监药检〔2026〕30012号") == NumberParts("连市监药检", 2026, 3, 12, legacy=True)
    assert parse_number("连市监药检2026-12") is None


def test_a_number_already_taken_is_skipped_not_issued_twice(ctx, subject, officers):
    """An older laptop's number (k*10000+n) or a voided one is never issued again."""
    from core import inspections as svc
    from core.numbering import register_void
    from db.models import DocumentCounter

    svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    taken = svc.load_inspection(ctx, svc.list_inspections(ctx)[0].id).number
    with ctx.transaction() as s:
        register_void(s, number=taken.replace("1号", "2号"), doc_kind="inspection", inspection_id=None,
                      reason="测试", voided_by="系统", voided_at=ctx.clock(), device_id=ctx.device_id)
    with ctx.transaction() as s:
        assert s.get(DocumentCounter, ("inspection", ctx.clock().year)).last_seq == 1
        third = next_number(s, kind="inspection", prefix=ctx.setting("prefix.inspection"), year=ctx.clock().year,
                            device_no=0)
    assert third.endswith("〕3号")
