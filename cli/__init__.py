"""The headless command line: the parser, assembled from one module per area, and dispatch.

Each area module's ``register(subparsers)`` adds its subcommands; every runnable
(sub)command sets ``handler``, and ``run`` calls it under ``cli.app.guarded`` — the one
dispatch scheme and the one error-to-exit mapping. Nothing here imports ``gui`` or
``db``; core services are imported inside the handlers so ``--help`` starts fast.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from cli import (attachments, audit, backup, corrections, exports, inspections, leads, numbers, oversight, paperwork,
                 register, resources, security, stats, sync, users)
from cli.app import (EXIT_BAD_INPUT, EXIT_ERROR, EXIT_OK, ChineseArgumentParser, ShowVersion, add_login_options, guarded,
                     program_name, use_login)

__all__ = ["EXIT_BAD_INPUT", "EXIT_ERROR", "EXIT_OK", "build_parser", "main", "parse_args", "run"]

AREAS = (register, inspections, corrections, numbers, paperwork, oversight, users, leads, audit, sync, resources, backup,
         stats, exports, attachments, security)


def build_parser(extra: tuple[Callable[[Any], None], ...] = ()) -> argparse.ArgumentParser:
    """The whole parser; without a subcommand ``handler`` is None (main.py then starts the GUI).

    ``extra``: more ``register(subparsers)`` functions from other interfaces (the hub's
    ``hub`` command), handed in by the entry point so that ``cli`` does not import them.
    """
    parser = ChineseArgumentParser(
        prog=program_name(),
        description="药械化现场检查：化妆品、医疗器械和药品经营者的离线现场检查。不带子命令时启动图形界面。",
    )
    parser.add_argument("--version", action=ShowVersion, help="显示版本号并退出")
    parser.add_argument("--db", help="数据库文件（默认：用户数据文件夹中的 inspections.db）")
    parser.set_defaults(handler=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for registrar in (*(area.register for area in AREAS), *extra):
        registrar(sub)
    for child in sub.choices.values():
        add_login_options(child)
    return parser


def parse_args(argv: list[str] | None = None, extra: tuple[Callable[[Any], None], ...] = ()) -> argparse.Namespace:
    """Parse the command line; argparse itself exits 2 with usage on a malformed one."""
    return build_parser(extra).parse_args(argv)


def run(args: argparse.Namespace) -> int:
    """Run the parsed subcommand's handler; returns the exit code."""
    if args.handler is None:
        print("错误：未指定子命令，请用 --help 查看用法", file=sys.stderr)
        return EXIT_BAD_INPUT
    return guarded(_with_login, args)


def _with_login(args: argparse.Namespace) -> int:
    use_login(args)
    return args.handler(args)


def main(argv: list[str] | None = None, extra: tuple[Callable[[Any], None], ...] = ()) -> int:
    """The CLI alone: parse ``argv`` and run its subcommand."""
    return run(parse_args(argv, extra))
