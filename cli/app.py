"""What every CLI handler shares: the exit codes, the one error-to-exit mapping, and helpers.

The CLI contract (DESIGN.md): exit 0 on success, 2 on bad input (one clear line on
stderr, nothing changed), 1 on an unexpected error. ``guarded`` is the only place that
turns exceptions into exit codes; handlers just raise.
"""
from __future__ import annotations

import json
import os
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
        print(f"unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR


def bad_input(message: str) -> NoReturn:
    """Refuse the command with exit 2 and ``message``, before anything is changed."""
    from core.errors import InvalidInput

    raise InvalidInput(message)


def open_context(db: str, *, create: bool = False, **kwargs: Any):
    """The services' context on ``db`` (a file or a database URL); imported late to start fast.

    Commands that read, verify, export or import refuse a missing database (the default);
    those that set a station or laptop up pass ``create=True`` (``core.context.AppContext.open``).
    """
    from core.context import AppContext

    return AppContext.open(db, create=create, **kwargs)


def print_json(value: Any) -> None:
    """One line of JSON, Chinese left readable."""
    print(json.dumps(value, ensure_ascii=False))


def add_file_import(sub, group: str, group_help: str, import_help: str, handler: Callable[..., int]):
    """``GROUP import --db DB FILE [--json]``: a station's .xlsx/.csv list brought in."""
    parser = sub.add_parser(group, help=group_help)
    actions = parser.add_subparsers(dest=f"{group}_command", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help=import_help)
    imp.add_argument("--db", required=True, help="database file")
    imp.add_argument("file", type=Path, help=".xlsx or .csv file")
    imp.add_argument("--json", action="store_true", help="print the summary as JSON")
    imp.set_defaults(handler=handler)
    return imp


def print_overdue_first(args, rows: list, line: Callable[[Any, str], str]) -> int:
    """A queue (tasks, leads) as JSON or one line a row; ``line(row, flag)`` with flag " OVERDUE" or ""."""
    if args.json:
        print_json([r.as_dict() for r in rows])
    else:
        for r in rows:
            print(line(r, " OVERDUE" if r.overdue else ""))
    return EXIT_OK
