"""The import's fast paths give exactly what the careful ones give (docs/performance.md, fourth round).

- ``TableSchema.all_good`` (a column at a time) passes a set of records only when
  ``problem`` (record by record, with the messages) finds nothing in any of them;
- ``loads_lines`` (msgspec) reads what ``loads`` reads, and gives up on all it refuses or
  reads differently (NaN, Infinity, a lone surrogate);
- the audit entry's canonical bytes and a checked record's ``after_json`` written by msgspec
  are byte for byte json's, so the hash chain is unchanged.
"""
from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from core import audit
from core.sync import validate
from core.sync.spec import BY_TABLE

TRICKY = ["", "说明", '引号"与\\反斜杠', "换行\n回车\r制表\t", "\x00\x01\x1f\x7f", "\u2028\u2029", "😀𠀀", "/<>&'"]


def _good_value(rule):
    kind = rule[0]
    if kind == "binary":
        return None
    if kind == "bool":
        return True
    if kind == "datetime":
        return "2026-01-02T03:04:05.123456"
    if kind == "date":
        return "2026-01-02"
    if kind == "int":
        _, low, high, choices = rule
        return min(choices) if choices else max(low, min(high, 1))
    _, limit, pattern, choices = rule
    if choices:
        return sorted(choices)[0]
    if pattern is None:
        return "文本"[:limit]
    for candidate in (str(uuid.uuid4()), "a" * 64, "a" * 128, "party", "officer1", "event"):
        if pattern.match(candidate):
            return candidate
    raise AssertionError(f"no good value for {pattern.pattern}")


def good_record(schema: validate.TableSchema) -> dict:
    return {key: _good_value(rule) for key, _nullable, rule in schema.rules}


def _bad_values(rule):
    kind = rule[0]
    common = [validate.NonFinite("NaN"), validate.NonFinite("-Infinity"), 1.5, [], {}]
    if kind == "binary":
        return ["AAAA", 0]
    if kind == "bool":
        return common + [1, 0, "true"]
    if kind == "int":
        _, low, high, choices = rule
        bad = common + [True, False, "1", low - 1, high + 1, 2**64, -(2**64)]
        return bad + ([max(choices) + 1] if choices else [])
    if kind == "datetime":
        return common + [5, "2026-01-02T03:04:05+08:00", "2026-13-02T03:04:05", "x" * 33, "昨天"]
    if kind == "date":
        return common + [5, "2026-02-30", "2026-1-2", "2026-01-02T00", "二〇二六年一月二日"]
    _, limit, pattern, choices = rule
    bad = common + [5, True, "x" * (limit + 1)]
    if pattern is not None:
        bad += ["not-a-uuid", str(uuid.uuid4()).upper(), "a" * 63 + "\n"]
    if choices:
        bad += ["maybe", sorted(choices)[0] + " "]
    return bad


def test_every_table_has_a_good_record_the_fast_pass_accepts():
    assert len(validate.SCHEMAS) >= 15
    for table, schema in validate.SCHEMAS.items():
        records = [good_record(schema), good_record(schema)]
        assert schema.problem(records[0]) is None, table
        assert schema.all_good(records), table


@pytest.mark.parametrize("table", sorted(BY_TABLE))
def test_the_fast_pass_refuses_whatever_the_careful_one_refuses(table):
    schema = validate.SCHEMAS[table]
    good = good_record(schema)
    tried = refused = 0
    for key, nullable, rule in schema.rules:
        for bad in _bad_values(rule) + ([] if nullable else [None]):
            record = {**good, key: bad}
            tried += 1
            wrong = schema.problem(record) is not None
            refused += wrong
            # all_good is True exactly when no record has a problem
            assert schema.all_good([good, record]) is (not wrong), (table, key, bad)
    assert tried > 10 and refused > tried // 2
    unknown = {**good, "extra": 1}
    key = "id" if "id" in good else "sha256"
    missing = {k: v for k, v in good.items() if k != key}
    assert not schema.all_good([good, unknown]) and schema.problem(unknown) is not None
    assert not schema.all_good([missing]) and not schema.all_good(["not an object"])


def test_check_records_gives_the_careful_message_when_the_fast_pass_fails():
    schema = validate.SCHEMAS["item_results"]
    records = [good_record(schema) for _ in range(3)]
    records[2]["version"] = validate.NonFinite("NaN")
    with pytest.raises(validate.InvalidInput) as refused:
        validate.check_records("p.zip", "item_results", records)
    assert "第 3 条记录" in str(refused.value) and "version" in str(refused.value) and "NaN" in str(refused.value)


@pytest.mark.parametrize("line", [
    '{"a":1,"b":"说明","c":null,"d":true,"e":[1,2]}', '{"a":1,"a":2}', '{"v":99999999999999999999999}',
    '{"v":-0}', '{"v":1.0}', ' {"a":1}\r', '{"s":"\\u00e9\\/\\n\\u2028"}', '{"s":"\u2028"}'])
def test_loads_lines_reads_what_loads_reads(line):
    assert validate.loads_lines([line, line]) == [validate.loads(line)] * 2


@pytest.mark.parametrize("line", ['{"v":NaN}', '{"v":Infinity}', '{"v":-Infinity}', '{"s":"\\ud800"}',
                                  '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}', '{"v":1e400}', "[" * 100_000])
def test_loads_lines_gives_up_on_what_it_would_read_differently(line):
    assert validate.loads_lines(['{"ok":1}', line]) is None


def test_entry_bytes_are_jsons_for_every_code_point():
    texts = ["".join(chr(c) for c in range(start, min(start + 4096, 0x110000)) if not 0xD800 <= c <= 0xDFFF)
             for start in range(0, 0x110000, 4096)]
    assert len(texts) == 272
    for text in texts:
        entry = ("insert", "item_results", text, "{}", text)
        assert audit._canonical_tail(entry) == audit._ENCODE(list(entry))[1:].encode("utf-8")
    with pytest.raises(UnicodeEncodeError):  # as before: an entry that cannot be UTF-8 is not hashed
        audit._canonical_tail(("insert", "t", "r", "{}", "\ud800"))


def test_checked_entry_is_inserted_entry():
    values = {"id": str(uuid.uuid4()), "note": "", "version": 2**62, "flag": False, "gone": None}
    for text in TRICKY:
        values["note"] = text
        assert audit.checked_entry("t", values) == audit.inserted_entry("t", values, plain=True)
    lone = {**values, "note": "\ud800"}  # msgspec cannot write it: json's form, as before
    assert audit.checked_entry("t", lone) == audit.inserted_entry("t", lone, plain=True)


def test_the_chain_hash_is_unchanged(ctx):
    """Entries appended now hash as the formula of every earlier version did."""
    from core.audit import GENESIS, append_entries, verify_chain
    from datetime import datetime

    entries = [("insert", "item_results", str(uuid.uuid4()), "{}", json.dumps({"note": t}, ensure_ascii=False))
               for t in TRICKY]
    at = datetime(2026, 12, 1, 22, 0, 0, 123456)
    with ctx.engine.begin() as conn:
        prev = conn.exec_driver_sql("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").scalar() or GENESIS
        append_entries(conn, at, "同步:笔记本", entries)
        stored = conn.exec_driver_sql(
            "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT ?", (len(entries),)).scalars().all()[::-1]
    expected = []
    for action, table, record_id, before, after in entries:
        canonical = json.dumps([at.isoformat(), "同步:笔记本", action, table, record_id, before, after],
                               ensure_ascii=False, separators=(",", ":"))
        prev = hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()
        expected.append(prev)
    assert len(stored) == len(TRICKY) and stored == expected
    assert verify_chain(ctx).ok
