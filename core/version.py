"""The app's one version number, read from ``pyproject.toml`` (bundled into a PyInstaller build).

Shown by ``--version`` and 关于, written into the forms' PDF metadata and every sync
manifest (``app_version``). Nothing else holds a version: change it in ``pyproject.toml``.
"""
from __future__ import annotations

import sys
import tomllib
from functools import lru_cache
from pathlib import Path

APP_TITLE = "药械化现场检查"


def _pyproject() -> Path:
    base = getattr(sys, "_MEIPASS", None)
    return Path(base) / "pyproject.toml" if base else Path(__file__).resolve().parent.parent / "pyproject.toml"


@lru_cache(maxsize=1)
def app_version() -> str:
    """``[project] version`` of pyproject.toml, e.g. "0.2.0"."""
    with open(_pyproject(), "rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def app_banner() -> str:
    """The program and its version as a PDF's creator or an about box's first line: "药械化现场检查 0.2.0"."""
    return f"{APP_TITLE} {app_version()}"
