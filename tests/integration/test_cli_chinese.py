"""Every CLI message is Chinese: each command's and option's --help, argparse's own refusals, the summaries."""
from __future__ import annotations

import argparse
import re

import pytest

CJK = re.compile(r"[\u4e00-\u9fff]")


def _parsers():
    import cli
    from main import EXTRA_COMMANDS

    pending, seen = [("main.py", cli.build_parser(EXTRA_COMMANDS))], []
    while pending:
        name, parser = pending.pop()
        seen.append((name, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    yield f"{name} {choice.dest}", choice.help
                pending += [(f"{name} {n}", p) for n, p in action.choices.items()]
            elif action.help is not argparse.SUPPRESS:
                yield f"{name} {'/'.join(action.option_strings) or action.dest}", action.help


def test_every_help_text_is_chinese():
    texts = list(_parsers())
    assert len(texts) > 100
    english = [(where, text) for where, text in texts if not CJK.search(text or "")]
    assert english == []


@pytest.mark.parametrize("argv, message", [
    (["devices", "add", "--db", "x.db"], "错误：缺少必填参数：--name, --out（用 main.py devices add --help 查看用法）"),
    (["hub", "--db", "x.db", "--port", "abc"], "错误：参数 --port 的值 'abc' 无效（应为整数）（用 main.py hub --help 查看用法）"),
    (["sync", "export", "--db", "x.db", "--out", "o", "--zzz"], "错误：无法识别的参数：--zzz（用 main.py --help 查看用法）"),
    (["users", "add", "--db", "x.db", "--role", "boss", "--name", "a", "--password-stdin"],
     "错误：参数 --role 的值 'boss' 无效（可选：'inspector', 'grid_worker', 'admin'）（用 main.py users add --help 查看用法）"),
])
def test_argparse_refusals_are_one_chinese_line(argv, message, capsys):
    import main

    with pytest.raises(SystemExit) as exited:
        main.main(argv)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.err == message + "\n" and captured.out == ""


def test_help_headings_are_chinese(capsys):
    import main

    with pytest.raises(SystemExit) as exited:
        main.main(["devices", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：main.py devices") and "位置参数：" in out and "显示本帮助并退出" in out
    assert "usage" not in out and "options" not in out


def test_users_add_and_devices_answer_in_chinese(tmp_path, monkeypatch, capsys):
    import io

    import main

    db = str(tmp_path / "s.db")
    monkeypatch.setattr("sys.stdin", io.StringIO("secret-123\n"))
    assert main.main(["users", "add", "--db", db, "--role", "grid_worker", "--name", "马红", "--grid", "西园",
                      "--password-stdin"]) == 0
    assert capsys.readouterr().out == "已添加网格员 马红\n"
    assert main.main(["devices", "add", "--db", db, "--name", "笔记本1", "--out", str(tmp_path / "e.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("已登记 笔记本1（设备号 1）") and "一次性登记码：" in out and "secret" not in out
    assert main.main(["devices", "revoke", "--db", db, "--name", "笔记本1"]) == 0
    assert capsys.readouterr().out.startswith("已吊销 笔记本1（设备号 1，")
    assert main.main(["devices", "list", "--db", db]) == 0
    assert "\t已吊销 " in capsys.readouterr().out
