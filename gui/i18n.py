"""Translated strings with arguments, one way for every screen.

The template keeps Qt's numbered placeholders (%1, %2, ...) so a translator may reorder
them, and stays a literal ``self.tr("...")`` / ``QCoreApplication.translate(...)`` call at
the call site, where pyside6-lupdate finds it: ``tr_args(self.tr("找到 %1 个（共 %2 个）"), n, total)``.
"""
from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"%(\d{1,2})")


def tr_args(translated: str, *args: object) -> str:
    """``translated`` with %1..%n replaced by ``args`` in one pass (like QString::arg).

    One pass, so an argument that itself contains "%2" is left as it is; a placeholder
    with no argument stays visible rather than vanishing.
    """
    def fill(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return str(args[number - 1]) if 1 <= number <= len(args) else match.group(0)

    return _PLACEHOLDER.sub(fill, translated)
