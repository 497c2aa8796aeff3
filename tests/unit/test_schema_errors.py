"""A bad checklist or rules file is told in Chinese: the place and what is wrong there, no English."""
from __future__ import annotations

import copy
import json
import re

import pytest

from core.checklists import checklists_dir, parse_template
from core.errors import InvalidInput
from core.rules import checked, rules_dir

GRADES = json.loads((rules_dir() / "grades.v2.json").read_text(encoding="utf-8"))
TEMPLATE = json.loads(next(checklists_dir().glob("cosmetics*.json")).read_text(encoding="utf-8"))


def _message(data, schema="schema.grades.json") -> str:
    with pytest.raises(InvalidInput) as caught:
        checked(data, schema, "grades.v9.json")
    return caught.value.message


def _changed(data, edit):
    data = copy.deepcopy(data)
    edit(data)
    return data


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d.update(default_grade=7), r"^规则文件 grades\.v9\.json 格式错误：default_grade: 取值 7 不在允许的 1、2、3 之中$"),
    (lambda d: d.pop("default_grade"), r"格式错误：\(root\): 缺少必填项 default_grade$"),
    (lambda d: d.update(version="2"), r"格式错误：version: 应为整数，实际是 \"2\"$"),
    (lambda d: d["grades"].__setitem__(0, {}), r"格式错误：grades/0: 缺少必填项 grade、label、who、baseline、baseline_text$"),
    (lambda d: d.update(colour="red"), r"格式错误：\(root\): 不认识的字段 colour$"),
])
def test_a_bad_rules_file_is_told_in_chinese(edit, expected):
    message = _message(_changed(GRADES, edit))
    assert re.search(expected, message), message
    assert not re.search(r"is not|is a required|should not|does not|Additional", message)


def test_a_bad_checklist_is_told_in_chinese():
    with pytest.raises(InvalidInput) as caught:
        parse_template(_changed(TEMPLATE, lambda d: d.update(sections=[])), source="cosmetics-531.v9.json")
    message = caught.value.message
    assert message == "检查表模板 cosmetics-531.v9.json 格式错误：sections: 列表不能为空", message
