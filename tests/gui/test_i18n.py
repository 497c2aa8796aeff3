"""Translated strings with arguments go one way: ``tr_args(self.tr("… %1 …"), value)``."""
from __future__ import annotations

import ast
from pathlib import Path

from gui.i18n import tr_args

GUI = Path(__file__).resolve().parents[2] / "gui"


def test_placeholders_are_numbered_so_a_translation_may_reorder_them():
    assert tr_args("找到 %1 个（共 %2 个）", 3, 10) == "找到 3 个（共 10 个）"
    assert tr_args("共 %2 个，找到 %1 个", 3, 10) == "共 10 个，找到 3 个"


def test_one_pass_and_nothing_silently_lost():
    assert tr_args("%1 与 %2", "含 %2 的名称", "乙") == "含 %2 的名称 与 乙"  # an argument is not substituted again
    assert tr_args("%1 与 %2", "甲") == "甲 与 %2"  # a missing argument stays visible


def _is_translation(node: ast.AST) -> bool:
    if isinstance(node, ast.IfExp):
        return _is_translation(node.body) and _is_translation(node.orelse)
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in {"tr", "translate"}


def _gui_modules():
    modules = sorted(GUI.glob("*.py"))
    assert len(modules) > 10
    return modules


def test_every_template_is_a_literal_translation_call_that_lupdate_can_find():
    calls = []
    for path in _gui_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "tr_args":
                calls.append(node)
                assert _is_translation(node.args[0]), f"{path.name}:{node.lineno}: tr_args needs self.tr(...) first"
    assert len(calls) >= 30


def test_no_other_placeholder_style_is_left():
    for path in _gui_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
                assert not _is_translation(node.left), f"{where}: self.tr(...) % value; use tr_args"
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).startswith("%")):
                raise AssertionError(f"{where}: .replace(\"%n\", ...); use tr_args")
