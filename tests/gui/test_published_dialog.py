"""发布的清单和规则: the admin publishes a checklist from the toolbar's screen; a bad file gets the
core's one message and changes nothing; the screens follow what is published."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFileDialog, QToolBar

from core import published
from core.users import UserRow
from gui.jobs import ImmediateRunner
from gui.published_dialog import PublishedDialog
from tests.gui.helpers import LEFT, open_main_window
from tests.integration.test_published import count, revision

TITLE = "化妆品经营者“5+3+1”检查表（省局修订）"


def _cell(dialog, row: int, column: int) -> str:
    return dialog.model.index(row, column).data()


def test_the_admin_publishes_a_checklist_and_a_bad_file_changes_nothing(qtbot, ctx, tmp_path, monkeypatch):
    window = open_main_window(qtbot, ctx)
    assert window.published_action.isVisible()
    (tmp_path / "good").mkdir()  # the two files have the one name a version 4 must have
    bad, good = revision(tmp_path, version=4, sections=[]), revision(tmp_path / "good", version=4, title=TITLE)
    chosen: list = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(chosen.pop(0)), ""))
    seen: dict = {}

    def drive(dialog: PublishedDialog):
        dialog.show()
        qtbot.waitExposed(dialog)
        seen["empty"] = dialog.model.rowCount() == 0 and dialog.empty.isVisible()
        chosen.append(bad)
        qtbot.mouseClick(dialog.publish_button, LEFT)
        seen["refused"] = (dialog.result.text(), dialog.model.rowCount(), count(ctx))
        chosen.append(good)
        qtbot.mouseClick(dialog.publish_button, LEFT)
        seen["done"] = dialog.result.text()
        seen["rows"] = [[_cell(dialog, r, c) for c in (0, 1, 7, 2, 3, 4)]
                        for r in range(dialog.model.rowCount())]
        seen["empty_after"] = dialog.empty.isVisible()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(PublishedDialog, "exec", drive)
    [toolbar] = window.findChildren(QToolBar)
    qtbot.mouseClick(toolbar.widgetForAction(window.published_action), LEFT)
    assert seen["empty"]
    text, rows, stored = seen["refused"]
    assert "格式错误" in text and "\n" not in text and (rows, stored) == (0, 0)
    assert seen["done"] == "已发布：检查表 cosmetics-531 第 4 版，下次同步时下发到下级。"
    assert seen["rows"] == [["检查表", "cosmetics-531", TITLE, "第 4 版", "现行", "系统"]] and not seen["empty_after"]
    assert published.templates(ctx)["cosmetics-531"].title == TITLE


def test_inspectors_do_not_see_it_and_a_laptop_cannot_publish(qtbot, ctx):
    ctx.user = UserRow("u1", "王建国", "inspector", "41170021001", "", True)
    assert not open_main_window(qtbot, ctx).published_action.isVisible()
    ctx.user = None
    ctx._write_settings({"sync.role": "device"})
    dialog = PublishedDialog(ctx, runner=ImmediateRunner())
    qtbot.addWidget(dialog)
    assert not dialog.publish_button.isEnabled() and "笔记本" in dialog.publish_button.toolTip()


def test_the_subject_page_and_the_new_inspection_follow_what_is_published(qtbot, ctx, subject, tmp_path):
    from gui.new_inspection_dialog import NewInspectionDialog
    from gui.subject_page import SubjectPage

    page = SubjectPage(ctx, subject.id, open_inspection=lambda _id: None)
    qtbot.addWidget(page)
    assert page.grade_box.isHidden()  # cosmetics: not graded by the shipped table
    table, rules = published.rules(ctx)[1], published.rules(ctx)[0]
    published.publish(ctx, revision(tmp_path, "grades", table.version + 1,
                                    graded_categories=[*table.graded_categories, subject.category]))
    page.refresh()
    assert not page.grade_box.isHidden() and "未评定" in page.grade_label.text()

    published.publish(ctx, revision(tmp_path, "triggers", rules.version + 1,
                                    checklists={**rules.checklists, "cosmetics_operator": "device-user"}))
    dialog = NewInspectionDialog(ctx, subject)
    qtbot.addWidget(dialog)
    assert dialog.template.currentData() == "device-user" and dialog.fit_warning.isHidden()
    dialog.template.setCurrentIndex(dialog.template.findData("drug-retail"))
    assert f"应使用《{published.templates(ctx)['device-user'].title}》" in dialog.fit_warning.text()
