"""Render docs/screenshots/rules-publish.png and rules-publish-refused.png: 发布的清单和规则.

    .venv/bin/python tests/make_rules_screenshots.py

On the demo station, its admin logged in: a provincial revision of the cosmetics checklist (第4版,
then 第5版), a grade table grading cosmetics shops too; the screen after 发布… of new trigger
rules, and after a file that fails its schema (the core's one message, nothing published).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"

from tests.support.screens import save_window  # noqa: E402


def save(app, widget, name: str) -> None:
    print(save_window(app, widget, OUT / f"rules-{name}.png"))


def main() -> None:
    from core import published
    from core.context import AppContext
    from core.demo import DEMO_ADMIN, DEMO_PASSWORD, create_demo
    from core.users import log_in
    from gui.app import setup_application
    from gui.jobs import ImmediateRunner
    from gui.published_dialog import PublishedDialog
    from tests.integration.test_published import TITLE, revision

    app = setup_application([])
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name in ("a", "b", "c"):
            (tmp / name).mkdir()
        ctx = AppContext.open(tmp / "station.db")
        create_demo(ctx)
        log_in(ctx, DEMO_ADMIN, DEMO_PASSWORD)
        published.publish(ctx, revision(tmp / "a", version=4, title=TITLE))
        published.publish(ctx, revision(tmp / "a", version=5, title=TITLE + "（勘误）"))
        grades = published.rules(ctx)[1]
        published.publish(ctx, revision(tmp / "a", "grades", grades.version + 1,
                                        description="县局修订：化妆品经营者纳入风险分级",
                                        graded_categories=[*grades.graded_categories, "cosmetics_operator"]))
        triggers = published.rules(ctx)[0]
        new_rules = revision(tmp / "b", "triggers", triggers.version + 1,
                             description="市局修订：网络监测线索 3 个工作日内核查")

        dialog = PublishedDialog(ctx, runner=ImmediateRunner())
        dialog.publish(new_rules)
        save(app, dialog, "publish")
        bad = revision(tmp / "c", "grades", grades.version + 2, default_grade=7)
        dialog.publish(bad)
        save(app, dialog, "publish-refused")
        assert json.loads(bad.read_text(encoding="utf-8"))["default_grade"] == 7
        ctx.close()


if __name__ == "__main__":
    main()
