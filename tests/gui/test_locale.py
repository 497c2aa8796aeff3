"""Chinese dates, calendars and file dialogs under an English or C system locale."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys
from PySide6.QtCore import QDate, QLocale, Qt
from PySide6.QtWidgets import QCalendarWidget, QDateEdit, QFileDialog, QLabel
from gui.app import setup_application
app = setup_application([sys.argv[0]])
locale = QLocale()
calendar = QCalendarWidget()
edit = QDateEdit(QDate(2026, 12, 8))
dialog = QFileDialog(None, "x")
labels = [w.text() for w in dialog.findChildren(QLabel) if w.text()]
print(json.dumps({
    "language": QLocale.languageToString(locale.language()),
    "first_day": int(calendar.firstDayOfWeek().value),
    "december": locale.monthName(12),
    "date_edit": edit.text(),
    "long_date": locale.toString(QDate(2026, 12, 8), QLocale.FormatType.LongFormat),
    "native": bool(app.testAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs)),
    "dialog_labels": labels,
}, ensure_ascii=False))
"""


def test_chinese_whatever_the_system_locale():
    env = dict(os.environ, LANG="C", LC_ALL="C", LANGUAGE="en")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["language"] == "Chinese"
    assert seen["first_day"] == 1  # Monday
    assert seen["december"] == "十二月"
    assert "2026" in seen["date_edit"] and "Dec" not in seen["date_edit"]
    assert "12月" in seen["long_date"] and "Dec" not in seen["long_date"]
    assert seen["native"] is True  # Qt's own file dialog, which the translation reaches
    assert len(seen["dialog_labels"]) >= 2
    assert not [t for t in seen["dialog_labels"] if t.isascii()], seen["dialog_labels"]
