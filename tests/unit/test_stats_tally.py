"""core/stats/tally.py: the one-pass 检查家次 / 户数 equal a GROUP BY per breakdown, on hand-made rows
(an in-memory SQLite table shaped like the period table); a key not on a breakdown's list leaves that
breakdown to its GROUP BY; counts too large for the bits, or for a word, are counted again wider."""
from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from core.stats.period import Period
from core.stats.tally import months, tally, vocabularies

VOCAB = {"by_kind": ["enforcement", "routine"], "by_month": ["2026-01", "2026-02", "2026-03"]}


def _session(rows) -> Session:
    session = Session(create_engine("sqlite://"))
    session.execute(text("CREATE TEMPORARY TABLE p (subject_key INTEGER, by_kind TEXT, by_month TEXT)"))
    if rows:
        session.execute(text("INSERT INTO p VALUES (:s, :k, :m)"), [{"s": s, "k": k, "m": m} for s, k, m in rows])
    return session


def _expected(rows, column: int) -> list[tuple]:
    inspections = Counter(r[column] for r in rows)
    households = Counter(k for _s, k in {(r[0], r[column]) for r in rows})
    return sorted((k, n, households[k]) for k, n in inspections.items())


ROWS = [(1, "enforcement", "2026-01"), (1, "enforcement", "2026-01"), (1, "routine", "2026-03"),
        (2, "enforcement", "2026-03"), (3, "routine", "2026-02"), (3, "routine", "2026-02"), (3, None, "2026-02")]


def test_one_pass_equals_a_count_per_breakdown_and_an_unknown_key_is_left_to_group_by():
    with _session(ROWS) as s:
        got = tally(s, "p", VOCAB)
    assert sorted(got) == ["by_month"]  # by_kind has a NULL kind (key ''), not on its list
    assert sorted(got["by_month"]) == _expected(ROWS, 2) == [("2026-01", 2, 1), ("2026-02", 3, 1),
                                                              ("2026-03", 2, 2)]
    known = [r for r in ROWS if r[1]]
    with _session(known) as s:
        got = tally(s, "p", VOCAB)
    assert sorted(got["by_kind"]) == _expected(known, 1) == [("enforcement", 3, 2), ("routine", 3, 2)]


@pytest.mark.parametrize("bits", [1, 2])
def test_counts_too_large_for_the_bits_are_counted_again_wider(bits):
    rows = [(7, "routine", "2026-02")] * 5 + [(8, "enforcement", "2026-01")]
    with _session(rows) as s:
        got = tally(s, "p", VOCAB, bits=bits)
    assert sorted(got["by_kind"]) == _expected(rows, 1) == [("enforcement", 1, 1), ("routine", 5, 1)]
    assert sorted(got["by_month"]) == _expected(rows, 2)


def test_a_word_that_would_overflow_is_counted_again_wider_and_long_lists_take_several_words():
    keys = [f"k{i:02d}" for i in range(70)]  # 70 keys at 1 bit: two words; k62 is the first word's top bit
    rows = [(1, "k62", "2026-01")] * 3 + [(2, "k69", "2026-01"), (2, "k00", "2026-01")]
    with _session(rows) as s:
        got = tally(s, "p", {"by_kind": keys}, bits=1)
    assert sorted(got["by_kind"]) == _expected(rows, 1) == [("k00", 1, 1), ("k62", 3, 1), ("k69", 1, 1)]


def test_an_empty_period_and_the_lists():
    with _session([]) as s:
        assert tally(s, "p", VOCAB) == {"by_kind": [], "by_month": []}
    assert months(Period.range(date(2025, 11, 20), date(2026, 2, 3))) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    with _session([]) as s:
        vocab = vocabularies(s, Period.quarter(2026, 4), several=False)
    assert vocab["by_month"] == ["2026-10", "2026-11", "2026-12"] and "by_station" not in vocab
    assert set(vocab) == {"by_domain", "by_category", "by_kind", "by_origin", "by_month"}
    assert "by_month" not in vocabularies(None, Period.range(date(2020, 1, 1), date(2026, 12, 31)), several=False)
