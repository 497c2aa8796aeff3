"""``codec.line_bytes``/``lines_bytes`` (msgspec) write exactly ``codec.dump``'s bytes for every
value a synced column can hold, and fall back to ``dump`` for anything else."""
from __future__ import annotations

import pytest

from core.sync.codec import FAST_TYPES, dump, line_bytes, lines_bytes

INTS = [0, 1, -1, 2**31, -(2**31), 2**53 + 1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, -(2**64), 10**40]


def _old(record) -> bytes:
    return dump(record).encode("utf-8")


def test_every_code_point_and_integer_the_same_bytes():
    texts = ["".join(chr(c) for c in range(start, min(start + 8192, 0x110000)) if not 0xD800 <= c < 0xE000)
             for start in range(0, 0x110000, 8192)]
    texts += ['"\\/\b\f\n\r\t\x00\x1f\x7f\u2028\u2029\ufeff😀𠀀', ""]
    records = [{"a": t, "b": INTS[n % len(INTS)], "c": (True, False, None)[n % 3], "d": None}
               for n, t in enumerate(texts)]
    assert len(records) == len(texts) > 100
    assert sum(map(len, texts)) == 0x110000 - 0x800 + 16  # every code point but the surrogates, once
    for record in records:
        assert type(record["b"]) in FAST_TYPES
        assert line_bytes(record, True) == line_bytes(record) == _old(record)
    lines = lines_bytes(records, [True] * len(records))
    assert len(lines) == len(records) and lines == [_old(r) for r in records]
    ints = [{"n": n, "t": True, "f": False, "z": None} for n in INTS]
    assert [line_bytes(r) for r in ints] == [_old(r) for r in ints] and len(ints) == 13


def test_what_msgspec_would_write_otherwise_goes_through_json():
    odd = [{"b": 1, "a": 2},  # keys not in sorted order: msgspec keeps the dict's order
           {"a": 1e16}, {"a": float("nan")}, {"a": 1.5}, {"a": [1, {"y": 2, "x": 1}]}]
    lines = lines_bytes(odd, [False] * len(odd))
    assert len(lines) == 5 and lines == [_old(r) for r in odd]
    assert lines[0] == b'{"a":2,"b":1}' and lines[1] == b'{"a":1e+16}' and lines[2] == b'{"a":NaN}'
    assert [line_bytes(r) for r in odd] == lines  # unproven: checked, so json too
    mixed = [{"a": "x"}, {"a": 1e16}]
    assert lines_bytes(mixed, [True, False]) == [b'{"a":"x"}', b'{"a":1e+16}']


def test_a_lone_surrogate_fails_either_way():
    with pytest.raises(UnicodeEncodeError):
        line_bytes({"a": "\ud800"}, True)
    with pytest.raises(UnicodeEncodeError):
        _old({"a": "\ud800"})


def test_rows_lines_as_structs_write_each_tables_records_as_json_does():
    from core.sync.codec import rows_lines
    from core.sync.spec import MODELS

    samples = ["驿城区", "", "a\nb\"c\\", "😀", None, 0, -(2**63), 2**64, True, False]
    checked = 0
    for model in MODELS:
        keys = sorted(c.key for c in model.__table__.columns)
        rows = [tuple(samples[(n + i) % len(samples)] for i in range(len(keys))) for n in range(len(samples))]
        expected = [_old(dict(zip(keys, row))) for row in rows]
        assert rows_lines(keys, rows, [True] * len(rows)) == expected, model.__tablename__
        checked += 1
    assert checked == len(MODELS) > 20
    keys = ["a", "b"]  # a row not proven: every row by json, the same bytes
    assert rows_lines(keys, [("x", 1), (1e16, 2)], [True, False]) == [b'{"a":"x","b":1}', b'{"a":1e+16,"b":2}']
    assert rows_lines(["b", "a"], [(1, 2)], [True]) == [b'{"a":2,"b":1}']  # keys not sorted: by json
