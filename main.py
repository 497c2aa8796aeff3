"""药械化现场检查 — entry point: the GUI without a subcommand, else the headless CLI (``cli/``).

Exit codes and error handling follow the CLI contract in ``cli/app.py``; the GUI is
imported only when it is started, so the subcommands never load Qt.
"""
from __future__ import annotations

import sys

import cli
from cli.app import guarded


def run_gui(db: str | None) -> int:
    from gui.app import run

    return run(db)


def main(argv: list[str] | None = None) -> int:
    args = cli.parse_args(argv)
    if args.command is None:
        return guarded(run_gui, args.db)
    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
