"""What every CLI handler shares: the exit codes, the one error-to-exit mapping, and helpers.

The CLI contract (DESIGN.md): exit 0 on success, 2 on bad input (one clear line on
stderr, nothing changed), 1 on an unexpected error. ``guarded`` is the only place that
turns exceptions into exit codes; handlers just raise.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


def guarded(fn: Callable[..., int], *args: Any) -> int:
    """Run ``fn(*args)`` and map what it raises to the contract's exit codes."""
    from core.errors import DomainError

    try:
        return fn(*args)
    except DomainError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # the contract: 1 and one line for anything unexpected
        if os.environ.get("YXJC_DEBUG"):  # developers: the whole traceback
            import traceback

            traceback.print_exc()
        print(f"意外错误（{type(exc).__name__}）：{exc}；设置环境变量 YXJC_DEBUG=1 可看到详细信息", file=sys.stderr)
        return EXIT_ERROR


def bad_input(message: str) -> NoReturn:
    """Refuse the command with exit 2 and ``message``, before anything is changed."""
    from core.errors import InvalidInput

    raise InvalidInput(message)


PASSWORD_FILE_ENV = "YXJC_PASSWORD_FILE"
_MAX_PASSWORD_FILE = 4096
# (name, password) from --as / --password-file, set by ``use_login`` before the handler runs
_login: tuple[str, str] | None = None


def add_login_options(parser: argparse.ArgumentParser) -> None:
    """``--as NAME`` and ``--password-file F`` on every (sub)command that takes ``--db``."""
    actions = getattr(parser, "_actions", [])
    if any("--db" in a.option_strings for a in actions) and not any("--as" in a.option_strings for a in actions):
        parser.add_argument("--as", dest="login_name", metavar="姓名",
                            help="以该用户登录（加密的数据库需要；与 --password-file 一起用）")
        parser.add_argument("--password-file", dest="password_file", type=Path, metavar="文件",
                            help=f"该用户的密码所在的文件（或用环境变量 {PASSWORD_FILE_ENV} 指定）")
    for action in actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                add_login_options(child)


def use_login(args: argparse.Namespace) -> None:
    """Read ``--as`` and the password file; a half-given log-in is refused (exit 2)."""
    global _login
    _login = None
    name = (getattr(args, "login_name", None) or "").strip()
    given = getattr(args, "password_file", None)
    password_file = given or (Path(os.environ[PASSWORD_FILE_ENV]) if os.environ.get(PASSWORD_FILE_ENV) else None)
    if given is not None and not name:
        bad_input("--password-file 需要与 --as 姓名 一起使用")
    if not name:
        return
    if password_file is None:
        bad_input(f"--as {name} 需要密码：请用 --password-file 密码文件（或环境变量 {PASSWORD_FILE_ENV}）")
    try:
        with open(password_file, "rb") as fh:
            raw = fh.read(_MAX_PASSWORD_FILE + 1)
    except OSError as exc:
        bad_input(f"无法读取密码文件 {password_file}：{exc.strerror or exc}")
    if len(raw) > _MAX_PASSWORD_FILE:
        bad_input(f"密码文件 {password_file} 过大（不是密码文件？）")
    try:
        password = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        bad_input(f"密码文件 {password_file} 不是 UTF-8 文本")
    if not password:
        bad_input(f"密码文件 {password_file} 是空的")
    _login = (name, password)


def login() -> tuple[str, str] | None:
    return _login


def open_context(db: str, *, create: bool = False, **kwargs: Any):
    """The services' context on ``db`` (a file or a database URL); imported late to start fast.

    Commands that read, verify, export or import refuse a missing database (the default);
    those that set a station or laptop up pass ``create=True`` (``core.context.AppContext.open``).
    With ``--as`` the key of an encrypted database is unwrapped with that user's password and
    the command acts as that user (``core.unlock.open_as``).
    """
    from core.unlock import open_as

    return open_as(db, create=create, login=_login, **kwargs)


def print_json(value: Any) -> None:
    """One line of JSON, Chinese left readable."""
    print(json.dumps(value, ensure_ascii=False))


def add_file_import(sub, group: str, group_help: str, import_help: str, handler: Callable[..., int],
                    *, more: Callable[[Any], None] | None = None):
    """``GROUP import --db DB FILE [--json]``: a station's .xlsx/.csv list brought in
    (``more(actions)`` adds the group's other actions)."""
    parser = sub.add_parser(group, help=group_help)
    actions = parser.add_subparsers(dest=f"{group}_command", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help=import_help)
    imp.add_argument("--db", required=True, help="数据库文件")
    imp.add_argument("file", type=Path, help=".xlsx 或 .csv 文件")
    imp.add_argument("--json", action="store_true", help="以 JSON 输出摘要")
    imp.set_defaults(handler=handler)
    if more is not None:
        more(actions)
    return imp


def add_delete(actions, name: str, help_text: str, handler: Callable[..., int], *keys: tuple[str, str, str]):
    """``GROUP NAME --db DB --KEY … [--yes]``: a delete (core/deletions.py); ``keys``: (flag, metavar, help)."""
    parser = actions.add_parser(name, help=help_text)
    parser.add_argument("--db", required=True, help="数据库文件或数据库 URL")
    for flag, metavar, key_help in keys:
        parser.add_argument(flag, required=True, metavar=metavar, help=key_help)
    parser.add_argument("--yes", action="store_true", help="确认删除；不加时只说明将删除什么，不作任何更改")
    parser.set_defaults(handler=handler)
    return parser


def need_db(args, command: str) -> str:
    """The ``--db`` of a command whose actions take their own (``tasks`` and ``tasks delete``):
    argparse cannot require it of the command alone, so it is refused here as argparse would."""
    if not args.db:
        bad_input(f"缺少必填参数：--db（用 main.py {command} --help 查看用法）")
    return args.db


def confirm_delete(args, what: str) -> None:
    """Without ``--yes`` a delete only says what it would delete (exit 2, nothing changed)."""
    if not args.yes:
        bad_input(f"将删除{what}，下次同步时各笔记本上的也会删除；确认删除请加 --yes")


def print_overdue_first(args, rows: list, line: Callable[[Any, str], str]) -> int:
    """A queue (tasks, leads) as JSON or one line a row; ``line(row, flag)`` with flag " 已逾期" or ""."""
    if args.json:
        print_json([r.as_dict() for r in rows])
    else:
        for r in rows:
            print(line(r, " 已逾期" if r.overdue else ""))
    return EXIT_OK


# argparse's own words (headings, -h, its refusals) in Chinese; the patterns are Python 3.11's messages
_HEADINGS = (("usage: ", "用法："), ("\noptions:\n", "\n选项：\n"), ("\npositional arguments:\n", "\n位置参数：\n"))
_REFUSALS = (
    (r"the following arguments are required: (.+)", r"缺少必填参数：\1"),
    (r"unrecognized arguments: (.+)", r"无法识别的参数：\1"),
    (r"argument (.+?): invalid choice: (.+?) \(choose from (.+)\)", r"参数 \1 的值 \2 无效（可选：\3）"),
    (r"argument (.+?): expected one argument", r"参数 \1 需要一个值"),
    (r"argument (.+?): expected at least one argument", r"参数 \1 至少需要一个值"),
    (r"argument (.+?): invalid int value: (.+)", r"参数 \1 的值 \2 无效（应为整数）"),
    (r"argument (.+?): invalid float value: (.+)", r"参数 \1 的值 \2 无效（应为数字）"),
    (r"argument (.+?): invalid (\w+) value: (.+)", r"参数 \1 的值 \3 无效"),
    (r"argument (.+?): not allowed with argument (.+)", r"参数 \1 不能与 \2 同时使用"),
    (r"one of the arguments (.+) is required", r"必须指定以下参数之一：\1"),
    (r"ambiguous option: (.+?) could match (.+)", r"选项 \1 有歧义，可能是：\2"),
)


def program_name() -> str:
    """What the usage text calls this program: the executable of a build (pyinstaller.spec:
    ``yaoxiehua-inspect-cli``, ``yaoxiehua-inspect``), else ``main.py``."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).stem
    return "main.py"


class ShowVersion(argparse.Action):
    """``--version``: "药械化现场检查 0.2.0" (``core.version``, read only when asked: --help stays fast)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from core.version import app_banner

        print(app_banner())
        parser.exit()


class ChineseArgumentParser(argparse.ArgumentParser):
    """argparse with its headings, ``-h`` and refusals in Chinese; a refusal is one ``错误：…`` line, exit 2.

    Subcommand parsers are made of the same class (argparse uses the parent's type).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def format_usage(self) -> str:
        return self._chinese(super().format_usage())

    def format_help(self) -> str:
        return self._chinese(super().format_help())

    @staticmethod
    def _chinese(text: str) -> str:
        for english, chinese in _HEADINGS:
            text = text.replace(english, chinese)
        return text

    def error(self, message: str) -> NoReturn:
        for pattern, chinese in _REFUSALS:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, chinese, message)
                break
        self.exit(EXIT_BAD_INPUT, f"错误：{message}（用 {self.prog} --help 查看用法）\n")
