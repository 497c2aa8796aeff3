"""Run ``main.py`` with every sync import pausing inside its transaction, just before commit.

``python -m tests.support.paused_import SECONDS main.py-arguments...`` — for tests that kill a
process in the middle of an import (``sync import``, the hub). The pause is a patch of
``core.sync.apply._before_commit`` made here, so production code carries no test hook.
"""
from __future__ import annotations

import runpy
import sys
import time
from pathlib import Path

MAIN = Path(__file__).resolve().parents[2] / "main.py"


def command(seconds: float, *args: str) -> list[str]:
    """The argv that runs ``main.py args...`` with the pause (for subprocess.Popen)."""
    return [sys.executable, "-m", "tests.support.paused_import", str(seconds), *args]


def main() -> None:
    seconds = float(sys.argv[1])
    from core.sync import apply

    apply._before_commit = lambda _pkg: time.sleep(seconds)
    sys.argv = [str(MAIN), *sys.argv[2:]]
    runpy.run_path(str(MAIN), run_name="__main__")


if __name__ == "__main__":
    main()
