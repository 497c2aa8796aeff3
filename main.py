"""药械化现场检查 — entry point: the GUI without a subcommand, else the headless CLI (``cli/``).

The composition root: the only module that knows all three interfaces. The hub's own
``hub`` command joins the CLI's parser here. Exit codes and error handling follow the CLI
contract in ``cli/app.py``; the GUI is imported only when it is started.
"""
from __future__ import annotations

import sys

import cli
from cli.app import guarded
from hub import command as hub_command

# subcommands of the other interfaces, beside the CLI's own
EXTRA_COMMANDS = (hub_command.register,)


def run_gui(db: str | None) -> int:
    from gui.app import run

    return run(db)


def main(argv: list[str] | None = None) -> int:
    args = cli.parse_args(argv, extra=EXTRA_COMMANDS)
    if args.command is None:
        return guarded(run_gui, args.db)
    return cli.run(args)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # a frozen build's second process (core.audit checks a long log on two cores)
    sys.exit(main())
