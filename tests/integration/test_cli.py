"""The CLI end to end, run as a user would: ``python main.py ...`` in a subprocess."""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.pdfcheck import pdf_text

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=120,
    )


@pytest.fixture(scope="module")
def demo_db(demo_template, tmp_path_factory) -> Path:
    """This module's demo station: a copy of the suite's (``demo`` itself runs in the first test)."""
    from tests.support.stations import copy_station

    return copy_station(demo_template, tmp_path_factory.mktemp("cli"))


def _inspections(db: Path) -> list[dict]:
    result = run("inspections", "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_demo_creates_signed_and_draft_inspections_and_tops_up(tmp_path):
    """The real ``demo`` command, end to end in a subprocess (the other tests copy the suite's demo)."""
    db = tmp_path / "station.db"
    made = run("demo", "--db", str(db))
    assert made.returncode == 0, made.stderr
    assert "新增 12 个监管对象、10 条检查记录" in made.stdout
    rows = _inspections(db)
    assert {r["status"] for r in rows} >= {"signed", "draft"}
    assert len(rows) == 10  # the demo: nine signed (one per checklist and more) and a draft
    assert all(set(r) == {"id", "number", "subject", "template", "status"} for r in rows)
    again = run("demo", "--db", str(db))
    assert again.returncode == 0 and "新增 0 个监管对象、0 条检查记录" in again.stdout
    assert len(_inspections(db)) == len(rows)


def test_print_then_verify(demo_db, tmp_path, qapp):
    from tests.integration.pdfcheck import decode_qr

    signed = next(r for r in _inspections(demo_db) if r["status"] == "signed")
    out = tmp_path / "record.pdf"
    result = run("print", "--db", str(demo_db), "--inspection", signed["number"], "--form", "record", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "现场检查笔录" in pdf_text(out)
    payload = decode_qr(out)[0]
    ok = run("verify", "--db", str(demo_db), payload)
    assert ok.returncode == 0 and "核验通过" in ok.stdout
    tampered = payload[:-1] + ("0" if payload[-1] != "0" else "1")
    bad = run("verify", "--db", str(demo_db), tampered)
    assert bad.returncode == 2 and bad.stderr.strip() and len(bad.stderr.strip().splitlines()) == 1


def test_bad_input_exits_2_with_one_line_and_no_file(demo_db, tmp_path):
    out = tmp_path / "x.pdf"
    for args in (
        ("print", "--db", str(demo_db), "--inspection", "不存在", "--form", "record", "--out", str(out)),
        ("verify", "--db", str(demo_db), "garbage"),
        ("subjects", "import", "--db", str(demo_db), str(tmp_path / "missing.csv")),
    ):
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_rectification_of_inspection_without_failures_is_bad_input(demo_db, tmp_path):
    clean = next(r for r in _inspections(demo_db) if r["subject"] == "驻马店市芳华日化商行")
    result = run("print", "--db", str(demo_db), "--inspection", clean["id"], "--form", "rectification",
                 "--out", str(tmp_path / "r.pdf"))
    assert result.returncode == 2 and "没有" in result.stderr


def test_subjects_import_json(tmp_path):
    from core.demo import demo_code

    csv = tmp_path / "名册.csv"
    csv.write_text(
        "名称,统一社会信用代码,类别,地址,法定代表人,联系电话,网格\n"
        f"甲店,{demo_code(1)},化妆品经营者,甲路1号,甲,1,一\n"
        "乙店,91350100M000100Y44,化妆品经营者,乙路,乙,2,二\n",
        encoding="utf-8-sig",
    )
    db = tmp_path / "s.db"
    result = run("subjects", "import", "--db", str(db), str(csv), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["imported"] == 1 and summary["skipped"] == 0
    assert summary["rejected"][0]["row"] == 3 and "校验位" in summary["rejected"][0]["reason"]


def test_help_lists_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("demo", "subjects", "inspections", "print", "verify", "events", "tasks", "plan", "inspectors",
                    "users", "leads", "audit", "devices", "sync", "backup", "restore", "numbers", "correct",
                    "approve-correction"):
        assert command in result.stdout


def test_backup_and_restore(demo_copy, tmp_path):
    db = demo_copy
    made = run("backup", "--db", str(db))
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip())
    assert backup.is_file()
    restored = run("restore", "--db", str(db), str(backup))
    assert restored.returncode == 0, restored.stderr
    assert len(_inspections(db)) == 10  # nine signed (one per checklist and more) and a draft
    missing = run("restore", "--db", str(db), str(tmp_path / "none.db"))
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1


def test_audit_verify_passes_on_demo_and_fails_on_a_tampered_copy(demo_db, tmp_path):
    import shutil
    import sqlite3

    ok = run("audit", "verify", "--db", str(demo_db))
    assert ok.returncode == 0 and "审计链完整" in ok.stdout
    copy = tmp_path / "tampered.db"
    rawdb.copy_db(demo_db, copy)
    raw = rawdb.connect(copy)
    raw.execute("UPDATE audit_log SET actor = '冒名' WHERE seq = 3")
    raw.commit()
    raw.close()
    bad = run("audit", "verify", "--db", str(copy))
    assert bad.returncode == 2 and "审计记录 3" in bad.stderr


def test_users_add_reads_the_password_from_stdin(tmp_path):
    db = tmp_path / "u.db"
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "users", "add", "--db", str(db), "--role", "inspector",
         "--name", "王建国", "--cert-no", "41170021001", "--password-stdin"],
        input="secret-123\n", capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    leads = run("leads", "--db", str(db), "--json")
    assert leads.returncode == 0 and json.loads(leads.stdout) == []


# --- the shape of the entry point and the parser ------------------------------------------------

def _listed(help_text: str) -> list[str]:
    """The subcommand names a --help lists: indented four spaces under COMMAND / ACTION."""
    return [line.split()[0] for line in help_text.splitlines() if line.startswith("    ") and line[4] != " "]


def _required_args(parser) -> list[str]:
    """A value for each required option and positional of ``parser`` itself (not its actions)."""
    import argparse

    argv = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        value = str(action.choices[0]) if action.choices else "1"
        if action.option_strings and action.required:
            argv += [action.option_strings[0]] if action.nargs == 0 else [action.option_strings[0], value]
        elif not action.option_strings:
            argv.append(value)
    return argv


def _subcommands(parser) -> dict:
    import argparse

    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def test_main_py_is_a_thin_entry_point():
    lines = (ROOT / "main.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 40


def test_every_command_in_help_dispatches_to_a_handler():
    """Each command `main.py --help` lists, and each of its actions, parses to a handler."""
    import cli
    from main import EXTRA_COMMANDS

    result = run("--help")
    assert result.returncode == 0
    listed = _listed(result.stdout)
    assert len(listed) == 29, listed  # rules: checklists and rules published for the levels below
    parser = cli.build_parser(EXTRA_COMMANDS)
    assert sorted(listed) == sorted(_subcommands(parser))
    checked = []
    pending = [([name], [name], _subcommands(parser)[name]) for name in listed]
    while pending:
        path, argv, sub = pending.pop()
        argv = argv + _required_args(sub)  # `inspectors --db X add --db X ...`: each level its own
        children = _subcommands(sub)
        assert sorted(_listed(sub.format_help())) == sorted(children), path
        pending += [(path + [name], argv + [name], child) for name, child in children.items()]
        if sub.get_default("handler") is None:
            assert children, f"{path} has neither a handler nor actions"
            continue
        args = cli.parse_args(argv, EXTRA_COMMANDS)
        assert callable(args.handler) and args.handler is sub.get_default("handler"), path
        assert args.handler.__module__.startswith(("cli.", "hub.command")), path
        checked.append(" ".join(path))
    assert sorted(checked) == [
        "approve-correction", "attachments encrypt", "attachments move-signatures", "attachments status", "audit verify",
        "backup", "correct", "demo",
        "devices add", "devices enrol", "devices list", "devices release", "devices revoke", "encrypt",
        "events import", "export", "hub", "hub migrate-db", "inspections", "inspections remove-photo", "inspectors",
        "inspectors add", "leads", "leads remove-photo", "numbers print",
        "numbers void", "numbers voided", "paperwork address", "paperwork case-decide", "paperwork case-draft",
        "paperwork case-submit", "paperwork hold", "paperwork list", "paperwork print", "paperwork release",
        "paperwork void-questioning", "plan", "print", "print-questioning", "recover", "restore", "rules list",
        "rules publish", "serve",
        "stats", "subjects delete", "subjects import",
        "sync export", "sync import", "sync pull", "sync push", "tasks", "tasks delete", "users add", "users keys", "users revoke-key", "verify"]


def test_no_subcommand_starts_the_gui_under_the_same_error_mapping(monkeypatch, capsys):
    import main
    from core.errors import InvalidInput

    started = []
    monkeypatch.setattr(main, "run_gui", lambda db: started.append(db) or 0)
    assert main.main(["--db", "x.db"]) == 0 and started == ["x.db"]

    def refuse(db):
        raise InvalidInput("打不开")

    monkeypatch.setattr(main, "run_gui", refuse)
    assert main.main([]) == 2 and capsys.readouterr().err.strip() == "错误：打不开"


def test_subcommands_load_neither_the_gui_nor_core_before_they_run(demo_db):
    """--help imports no core service, Qt or SQLAlchemy; a subcommand never imports the GUI."""
    code = (
        "import sys, main, cli\n"
        "cli.build_parser(main.EXTRA_COMMANDS)\n"
        "early = sorted(m for m in sys.modules if m.split('.')[0] in ('core', 'db', 'gui', 'PySide6', 'sqlalchemy', 'starlette', 'uvicorn'))\n"
        f"assert main.main(['inspections', '--db', {str(demo_db)!r}, '--json']) == 0\n"
        "late = sorted(m for m in sys.modules if m.split('.')[0] in ('gui', 'PySide6'))\n"
        "print(repr((early, late)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8",
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) and result.stderr.strip() == "([], [])"
