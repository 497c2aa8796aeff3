"""The sync schema (core/sync/validate.py): built from every synced column, enums on real columns."""
from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.inspections import PHOTO_EXTS
from core.inspections.photos import _IMAGE_EXT
from core.sync import validate
from core.sync.spec import BY_TABLE, ENUMS


def test_every_synced_column_has_a_check():
    checked = {(t, key) for t, schema in validate.SCHEMAS.items() for key, _n, _c in schema.checks}
    columns = {(t, c.key) for t, model in BY_TABLE.items() for c in model.__table__.columns}
    assert len(columns) > 150 and checked == columns


def test_enums_name_real_columns_and_photo_extensions_cover_what_photos_store():
    columns = {(t, c.key) for t, model in BY_TABLE.items() for c in model.__table__.columns}
    assert len(ENUMS) >= 15 and set(ENUMS) <= columns
    assert ENUMS["inspections", "status"] == ("draft", "completed", "signed", "voided")
    assert ENUMS["voided_numbers", "doc_kind"][:3] == ("inspection", "rectification", "questioning")
    assert ENUMS["questionings", "status"] == ("draft", "signed", "voided")
    assert set(_IMAGE_EXT.values()) <= PHOTO_EXTS


def record(**changes):
    base = {"id": "01a23147-3ff7-7f7e-b0fd-1272f38319a5", "created_at": "2026-01-02T03:04:05",
            "updated_at": "2026-01-02T03:04:05.123456", "version": 1, "device_id": "5e75452a-4932-4f2d-b0ad-f413facb4019",
            "inspection_id": "01a23147-3ff7-7f7e-b0fd-1272f38319a6", "item_code": "B2", "result": "fail", "note": "说明"}
    base.update(changes)
    return base


@pytest.mark.parametrize("changes, field, needle", [
    ({"version": True}, "version", "应为整数"),
    ({"version": 0}, "version", "之间"),
    ({"version": validate.NonFinite("Infinity")}, "version", "非有限数值 Infinity"),
    ({"result": "maybe"}, "result", "不在允许范围内"),
    ({"created_at": "2026-01-02T03:04:05+08:00"}, "created_at", "时区"),
    ({"note": "x" * 20_001}, "note", "超过 20,000 个字符"),
    ({"item_code": "x" * 33}, "item_code", "超过 32 个字符"),
    ({"id": "01A23147-3FF7-7F7E-B0FD-1272F38319A5"}, "id", "UUID"),
])
def test_problems_name_the_field(changes, field, needle):
    second = record(id="01a23147-3ff7-7f7e-b0fd-1272f38319a7")
    second.update(changes)
    with pytest.raises(InvalidInput) as caught:
        validate.check_records("p.zip", "item_results", [record(), second])
    message = caught.value.message
    assert "检查项结果（item_results）第 2 条记录" in message and f"字段 {field} " in message and needle in message
    assert "\n" not in message


def test_a_good_record_and_an_older_one_without_defaulted_columns():
    old = record(id="01a23147-3ff7-7f7e-b0fd-1272f38319a8")
    del old["note"], old["created_at"]
    unanswered = record(id="01a23147-3ff7-7f7e-b0fd-1272f38319a9", result=None)
    validate.check_records("p.zip", "item_results", [record(), old, unanswered])  # no problem: no exception
    assert validate.SCHEMAS["item_results"].complete(old)["note"] == ""


def test_non_finite_numbers_are_markers_not_numbers():
    value = validate.loads('{"a": NaN, "b": -Infinity}')
    assert isinstance(value["a"], validate.NonFinite) and value["b"].text == "-Infinity"
    with pytest.raises(ValueError):
        validate.no_constants('{"seq": Infinity}')


def test_duplicate_ids_in_one_package():
    with pytest.raises(InvalidInput, match="第 2 条记录.*重复"):
        validate.check_records("p.zip", "item_results", [record(), record()])


def test_shown_keeps_messages_on_one_line():
    assert validate.shown("a\nb\x00c", 10) == "a\\nb\\x00c"
    assert validate.shown("长" * 50, 5) == "长" * 5 + "…"
