"""Where things live: bundled resources and the user's data folder."""
from __future__ import annotations

import sys
from pathlib import Path

APP_NAME = "yaoxiehua-inspect"


def resources_dir() -> Path:
    """The ``resources/`` folder, also inside a PyInstaller bundle."""
    base = getattr(sys, "_MEIPASS", None)
    if base:
        return Path(base) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def user_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def default_db_path() -> Path:
    return user_data_dir() / "inspections.db"


def cjk_font_path() -> Path:
    return resources_dir() / "fonts" / "wqy-microhei.ttc"


CLI_SUFFIX = "-cli"  # the console program beside the windowed one in a build (pyinstaller.spec)


def entry_command(*args: str) -> tuple[str, list[str]]:
    """This program again with a subcommand, as (program, arguments): how the GUI starts the
    station's hub as a child process without importing it. A PyInstaller build runs its
    console program (on Windows the windowed one has no stdout/stderr to read); from source
    it is this Python running the entry script."""
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable)
        if not exe.stem.endswith(CLI_SUFFIX):
            cli = exe.with_name(f"{exe.stem}{CLI_SUFFIX}{exe.suffix}")
            if cli.exists():
                return str(cli), list(args)
        return sys.executable, list(args)
    return sys.executable, [str(Path(__file__).resolve().parent.parent / "main.py"), *args]


def icon_path() -> Path:
    """The app's icon (256 px PNG): the windows, the .desktop entry."""
    return resources_dir() / "icons" / "yaoxiehua-inspect.png"
