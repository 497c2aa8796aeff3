"""A JSON-schema error in Chinese: where in the file, and what is wrong there.

jsonschema's own messages are English ("7 is not one of [1, 2, 3]"); the person who publishes a
checklist or a rules file reads Chinese. Each validator the shipped schemas use has its sentence;
any other falls back to jsonschema's text, so nothing is ever hidden."""
from __future__ import annotations

import json
from typing import Any

_TYPES = {"string": "文字", "integer": "整数", "number": "数字", "boolean": "是/否（true/false）",
          "array": "列表", "object": "对象", "null": "空值（null）"}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def _type_names(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return "或".join(_TYPES.get(n, str(n)) for n in names)


def _sentence(error) -> str:
    kind, want, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = [name for name in want if isinstance(value, dict) and name not in value]
        return f"缺少必填项 {'、'.join(missing or want)}"
    if kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in value if k not in allowed) if isinstance(value, dict) else []
        return f"不认识的字段 {'、'.join(extra)}" if extra else "有不认识的字段"
    if kind == "type":
        return f"应为{_type_names(want)}，实际是 {_shown(value)}"
    if kind == "enum":
        return f"取值 {_shown(value)} 不在允许的 {'、'.join(_shown(v) for v in want)} 之中"
    if kind == "const":
        return f"取值应为 {_shown(want)}，实际是 {_shown(value)}"
    if kind == "minimum":
        return f"取值 {_shown(value)} 小于最小值 {want}"
    if kind == "exclusiveMinimum":
        return f"取值 {_shown(value)} 应大于 {want}"
    if kind == "maximum":
        return f"取值 {_shown(value)} 大于最大值 {want}"
    if kind == "minLength":
        return "不能为空" if want == 1 else f"至少 {want} 个字符"
    if kind == "maxLength":
        return f"最多 {want} 个字符，实际 {len(value)} 个"
    if kind == "minItems":
        return "列表不能为空" if want == 1 else f"至少 {want} 项"
    if kind == "maxItems":
        return f"最多 {want} 项，实际 {len(value)} 项"
    if kind == "uniqueItems":
        return "列表中有重复的项"
    if kind == "pattern":
        return f"{_shown(value)} 的格式不对（应符合 {want}）"
    if kind == "format":
        return f"{_shown(value)} 不是有效的 {want}"
    if kind == "oneOf":
        return "不符合任何一种允许的写法"
    return error.message


def describe(error) -> str:
    """``<place>: <what is wrong>`` for one ``jsonschema.ValidationError`` (the place as a path, or (root))."""
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"{where}: {_sentence(error)}"
