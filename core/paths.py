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
