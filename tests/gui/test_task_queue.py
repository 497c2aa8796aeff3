"""Trigger-based oversight through the real widgets: the task queue, the plan, grades and events."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QDialogButtonBox, QInputDialog, QMessageBox

from core import inspections as svc
from core.demo import demo_code
from core.inspections import OfficerData
from core.inspectors import add_inspector
from core.subjects import SubjectData, add_subject, get_subject
from core.grades import grade_history, set_grade
from core.tasks import assign_task, cancel_task, list_tasks, record_event, start_task, task_of_inspection
from gui.inspection_editor import InspectionEditor
from gui.jobs import ImmediateRunner
from gui.main_window import MainWindow
from tests.gui.helpers import open_main_window
from gui.models import ROW_ROLE, TaskTableModel
from gui.new_inspection_dialog import NewInspectionDialog
from gui.oversight_dialogs import EventDialog, GradeDialog
from gui.plan_dialog import PlanDialog
from gui.subject_page import SubjectPage
from gui.task_queue import TaskQueue
from tests.gui.test_inspection_flow import _sign_button, draw_signatures  # noqa: F401  (a fixture)
from tests.integration.helpers import signed_inspection

LEFT = Qt.MouseButton.LeftButton
OFFICERS = [("王建国", "41170021001"), ("李秀英", "41170021002")]
REASON_COLUMN = 6


# --- helpers ---------------------------------------------------------------------------

def _device(ctx, name: str, serial: int, *, grid: str = "", category: str = "device_operator", grade=None):
    subject = add_subject(ctx, SubjectData(name=name, category=category, credit_code=demo_code(700 + serial),
                                           legal_rep="赵强", address=f"驻马店市测试路{serial}号", grid=grid))
    if grade:
        set_grade(ctx, subject.id, grade, reason="年度风险分级评定", changed_by="王所长")
    return subject


def _main_window(qtbot, ctx) -> MainWindow:
    return open_main_window(qtbot, ctx)


def _queue_tab(qtbot, window: MainWindow) -> TaskQueue:
    """Click the 检查任务 tab."""
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(2).center())
    assert window.tabs.currentWidget() is window.task_queue
    return window.task_queue


def _rows(queue: TaskQueue) -> list:
    return [queue.proxy.index(r, 0).data(ROW_ROLE) for r in range(queue.proxy.rowCount())]


def _click_row(qtbot, queue: TaskQueue, row: int) -> None:
    index = queue.proxy.index(row, 0)
    qtbot.mouseClick(queue.view.viewport(), LEFT, pos=queue.view.visualRect(index).center())
    assert queue.view.currentIndex().row() == row


def _choose(combo, data) -> None:
    """Pick the entry holding ``data``, as choosing it from the drop-down does."""
    index = combo.findData(data)
    assert index >= 0, (data, [combo.itemData(i) for i in range(combo.count())])
    combo.setCurrentIndex(index)


def _ok(dialog):
    return dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)


def _save(dialog):
    return dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)


@pytest.fixture
def start_dialogs(qtbot, monkeypatch, type_text):
    """NewInspectionDialog.exec: type the two officers, click 开始检查; the dialogs are kept."""
    seen = []

    def fill(dialog: NewInspectionDialog) -> int:
        dialog.show()
        seen.append({"enabled": dialog.template.isEnabled(), "code": dialog.template.currentData(),
                     "text": dialog.template.currentText(), "title": dialog.windowTitle()})
        for (name, cert), name_edit, cert_edit in zip(OFFICERS, dialog.officer_names, dialog.officer_certs):
            name_edit.clear()
            cert_edit.clear()
            type_text(name_edit, name)
            qtbot.keyClicks(cert_edit, cert)
        qtbot.mouseClick(_ok(dialog), LEFT)
        assert dialog.message.text() == ""
        return dialog.result()

    monkeypatch.setattr(NewInspectionDialog, "exec", fill)
    return seen


def _editors(window: MainWindow) -> list[InspectionEditor]:
    return [w for w in window._open_windows if isinstance(w, InspectionEditor)]


# --- 1. from the queue to a signed inspection that closes the task ---------------------------

def test_task_from_queue_to_signed_inspection_closes_the_task(
    ctx, qtbot, message_boxes, start_dialogs, draw_signatures, officer_sign  # noqa: F811
):
    shop = _device(ctx, "驿城区百姓健康医疗器械店", 1, grid="前进路社区")
    record_event(ctx, shop.id, "complaint", ctx.clock().date(), source_ref="TS-001",
                 details="消费者投诉血压计无中文说明书")
    [task] = list_tasks(ctx)

    window = _main_window(qtbot, ctx)
    queue = _queue_tab(qtbot, window)
    [row] = _rows(queue)
    assert row.id == task.id and row.status == "open"
    reason = queue.proxy.index(0, REASON_COLUMN).data()
    assert "投诉举报" in reason and "TS-001" in reason
    assert queue.proxy.index(0, 0).data() == "高"

    _click_row(qtbot, queue, 0)
    qtbot.mouseClick(queue.start_button, LEFT)

    assert start_dialogs == [{
        "enabled": False, "code": "device-operator", "text": "医疗器械经营企业监督检查记录表（第4版）",
        "title": f"开始任务检查 — {shop.name}",
    }]
    [editor] = _editors(window)
    qtbot.waitExposed(editor)
    started = list_tasks(ctx)[0]
    assert started.status == "in_progress" and started.inspection_id == editor.inspection_id
    assert editor.record.template.code == "device-operator"
    assert [(o.name, o.cert_no) for o in editor.record.officers] == OFFICERS
    assert [r.status for r in _rows(queue)] == ["in_progress"]  # still 未完成

    # answer every item 符合, complete, sign
    for code, item_row in editor.rows.items():
        qtbot.mouseClick(item_row.buttons["pass"], LEFT)
        assert item_row.buttons["pass"].isChecked(), code
    assert svc.load_inspection(ctx, editor.inspection_id).unanswered() == []
    qtbot.mouseClick(editor.complete_button, LEFT)
    assert editor.message.text() == ""
    assert not editor.rect_box.isVisibleTo(editor)  # nothing failed: no rectification order
    qtbot.mouseClick(editor.legal_panel.confirm_button, LEFT)  # the party confirms the record
    for role in ("party", "officer1", "officer2"):
        qtbot.mouseClick(_sign_button(editor, role), LEFT)
    assert len(draw_signatures) == 3
    message_boxes.answer = QMessageBox.StandardButton.Yes
    qtbot.mouseClick(editor.sign_button, LEFT)
    assert editor.message.text() == ""
    assert svc.load_inspection(ctx, editor.inspection_id).status == "signed"

    [closed] = list_tasks(ctx)
    assert closed.status == "done"
    linked = task_of_inspection(ctx, editor.inspection_id)
    assert linked is not None and linked.id == task.id and linked.status == "done"
    # the queue catches up after the editor's pause; 未完成 no longer lists it
    qtbot.waitUntil(lambda: queue.proxy.rowCount() == 0, timeout=10000)
    assert queue.summary.text() == "0 个任务，其中逾期 0 个"
    _choose(queue.status, "done")
    assert [(r.id, r.status_label) for r in _rows(queue)] == [(task.id, "已完成")]


# --- 2. the filters ------------------------------------------------------------------------

@pytest.fixture
def many_tasks(ctx):
    """Four tasks: high/东区 (two officers), low/西区, an overdue medium/西区 (one officer), cancelled/北区."""
    ctx.clock = lambda: datetime(2026, 3, 10, 9, 0)
    east = _device(ctx, "东区器械店", 1, grid="东区")
    west = _device(ctx, "西区器械店", 2, grid="西区")
    shop = _device(ctx, "西区化妆品店", 3, grid="西区", category="cosmetics_operator")
    north = _device(ctx, "北区器械店", 4, grid="北区")
    record_event(ctx, east.id, "complaint", date(2026, 3, 9), details="投诉")
    record_event(ctx, west.id, "self_report_missing", date(2026, 3, 9))
    record_event(ctx, shop.id, "online_monitoring", date(2026, 1, 5), details="网店无备案信息")
    record_event(ctx, north.id, "grid_finding", date(2026, 3, 9))
    tasks = {t.subject_name: t for t in list_tasks(ctx)}
    assign_task(ctx, tasks["东区器械店"].id, [OfficerData(*o) for o in OFFICERS])
    assign_task(ctx, tasks["西区化妆品店"].id, [OfficerData("张卫东", "41170021003")])
    cancel_task(ctx, tasks["北区器械店"].id, "重复线索")
    return {t.subject_name: t for t in list_tasks(ctx)}


def test_queue_filters_change_the_rows_shown(ctx, qtbot, many_tasks):
    queue = TaskQueue(ctx, runner=ImmediateRunner(), open_inspection=lambda _id: None)
    qtbot.addWidget(queue)
    queue.show()
    qtbot.waitExposed(queue)

    def names() -> list[str]:
        return [t.subject_name for t in _rows(queue)]

    # 未完成 by default, most urgent first
    assert names() == ["东区器械店", "西区化妆品店", "西区器械店"]
    assert queue.summary.text() == "3 个任务，其中逾期 1 个"
    assert [queue.grid.itemText(i) for i in range(queue.grid.count())] == ["全部网格", "东区", "北区", "西区"]
    assert [queue.officer.itemText(i) for i in range(queue.officer.count())] == [
        "全部执法人员", "张卫东", "李秀英", "王建国"]

    # the overdue row stands out
    for r, task in enumerate(_rows(queue)):
        background = queue.proxy.index(r, 1).data(Qt.ItemDataRole.BackgroundRole)
        if task.subject_name == "西区化妆品店":
            assert task.overdue
            assert isinstance(background, QBrush) and background.color() == QColor("#fde3e3")
            assert queue.proxy.index(r, 1).data().endswith("（逾期）")
        else:
            assert not task.overdue and background is None

    for status, expected in (("cancelled", 1), ("open", 3), ("in_progress", 0), ("done", 0), ("", 4)):
        _choose(queue.status, status)
        assert queue.proxy.rowCount() == expected, status
    assert queue.summary.text() == "4 个任务，其中逾期 1 个"
    _choose(queue.status, "open+in_progress")

    for priority, expected in (("high", ["东区器械店"]), ("medium", ["西区化妆品店"]), ("low", ["西区器械店"])):
        _choose(queue.priority, priority)
        assert names() == expected, priority
    _choose(queue.priority, "")

    _choose(queue.grid, "西区")
    assert names() == ["西区化妆品店", "西区器械店"]
    _choose(queue.priority, "low")
    assert names() == ["西区器械店"]
    assert queue.summary.text() == "1 个任务，其中逾期 0 个"
    _choose(queue.priority, "")
    _choose(queue.grid, "北区")
    assert names() == []  # its task is cancelled
    _choose(queue.grid, "")

    _choose(queue.officer, "张卫东")
    assert names() == ["西区化妆品店"]
    _choose(queue.officer, "王建国")
    assert names() == ["东区器械店"]
    _choose(queue.officer, "")
    assert queue.proxy.rowCount() == 3

    # 截止日期不晚于: off until ticked
    assert not queue.due_by.isEnabled()
    queue.due_by.setDate(QDate.fromString("2026-03-31", "yyyy-MM-dd"))
    assert queue.proxy.rowCount() == 3
    qtbot.mouseClick(queue.due_enabled, LEFT, pos=QPoint(6, queue.due_enabled.height() // 2))
    assert queue.due_enabled.isChecked() and queue.due_by.isEnabled()
    assert many_tasks["东区器械店"].due <= date(2026, 3, 31) < many_tasks["西区器械店"].due
    assert names() == ["东区器械店", "西区化妆品店"]
    queue.due_by.setDate(QDate.fromString("2026-02-01", "yyyy-MM-dd"))
    assert names() == ["西区化妆品店"]
    assert queue.summary.text() == "1 个任务，其中逾期 1 个"
    qtbot.mouseClick(queue.due_enabled, LEFT, pos=QPoint(6, queue.due_enabled.height() // 2))
    assert not queue.due_enabled.isChecked()
    assert queue.proxy.rowCount() == 3

    # a chosen filter survives a refresh of the list
    _choose(queue.grid, "西区")
    queue.refresh()
    assert queue.grid.currentData() == "西区" and queue.proxy.rowCount() == 2


def test_task_table_model(ctx, qtmodeltester, many_tasks):
    model = TaskTableModel()
    model.set_rows(list_tasks(ctx))
    assert model.rowCount() == 4
    qtmodeltester.check(model)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["优先级", "截止日期", "状态", "监管对象", "网格", "执法人员", "原因"]
    first = [model.index(0, c).data() for c in range(model.columnCount())]
    assert first[:6] == ["高", many_tasks["东区器械店"].due.isoformat(), "待检查", "东区器械店", "东区",
                         "王建国、李秀英"]
    assert model.index(3, 2).data() == "已取消"  # ended tasks sort last
    model.set_rows([])
    qtmodeltester.check(model)


# --- 3. the re-inspection --------------------------------------------------------------------

def test_reinspection_task_opens_an_editor_with_only_the_failed_items(
    ctx, subject, officers, qtbot, start_dialogs
):
    original = signed_inspection(ctx, subject.id, officers, {"B2": "1批次无备案信息", "G1": "无进货查验记录"})
    rectification = svc.load_inspection(ctx, original).rectification

    window = _main_window(qtbot, ctx)
    queue = _queue_tab(qtbot, window)
    [task] = _rows(queue)
    assert task.rectification_id and task.due == rectification.deadline and task.priority == "high"
    assert "整改复查" in queue.proxy.index(0, REASON_COLUMN).data()

    _click_row(qtbot, queue, 0)
    qtbot.mouseClick(queue.start_button, LEFT)

    [seen] = start_dialogs
    assert not seen["enabled"] and seen["text"] == "整改复查：只检查原不符合项"
    [editor] = _editors(window)
    assert list(editor.rows) == ["B2", "G1"]
    assert editor.record.purpose == "reinspection"
    assert "整改复查" in editor.record.template.title
    assert list_tasks(ctx)[0].inspection_id == editor.inspection_id

    # starting it again opens the same editor, not a second inspection
    _click_row(qtbot, queue, 0)
    qtbot.mouseClick(queue.start_button, LEFT)
    assert len(start_dialogs) == 1 and _editors(window) == [editor]


# --- 4. the subject page -------------------------------------------------------------------

def _page(qtbot, ctx, subject_id) -> SubjectPage:
    page = SubjectPage(ctx, subject_id, open_inspection=lambda _id: None)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    return page


def test_subject_page_shows_grades_only_for_graded_categories(ctx, subject, qtbot):
    shop = _device(ctx, "驻马店市安泰医疗器械批发有限公司", 1, grade=1)
    set_grade(ctx, shop.id, 2, reason="第二类、第三类医疗器械批发企业", changed_by="李所长")

    page = _page(qtbot, ctx, shop.id)
    assert page.grade_box.isVisible() and page.grade_button.isVisible()
    model = page.grade_model
    assert [model.index(r, 1).data() for r in range(model.rowCount())] == ["未分级 → 一级", "一级 → 二级"]
    assert [model.index(r, 2).data() for r in range(model.rowCount())] == [
        "年度风险分级评定", "第二类、第三类医疗器械批发企业"]
    assert model.index(1, 3).data() == "李所长"
    assert "二级" in page.grade_label.text()
    assert page.due_label.text() == "无触发，不检查"

    cosmetics = _page(qtbot, ctx, subject.id)
    assert not cosmetics.grade_box.isVisible() and not cosmetics.grade_button.isVisible()
    assert cosmetics.due_label.text() == "无触发，不检查"


def test_subject_page_event_dialog_creates_a_task(ctx, subject, qtbot, monkeypatch, type_text):
    page = _page(qtbot, ctx, subject.id)
    assert page.due_label.text() == "无触发，不检查"
    changed = []
    page.changed.connect(lambda: changed.append(1))

    def fill(dialog: EventDialog) -> int:
        dialog.show()
        labels = [dialog.event_type.itemText(i) for i in range(dialog.event_type.count())]
        assert "整改复查" not in labels and "复查仍不合格" not in labels  # the app raises these itself
        dialog.event_type.setCurrentIndex(dialog.event_type.findText("抽检不合格"))
        qtbot.keyClicks(dialog.source_ref, "CJ-2026-08")
        dialog.details.setFocus()
        type_text(dialog.details, "抽检面霜菌落总数超标")
        qtbot.mouseClick(_save(dialog), LEFT)
        assert dialog.message.text() == ""
        assert dialog.outcome is not None and dialog.outcome.task_created
        return dialog.result()

    monkeypatch.setattr(EventDialog, "exec", fill)
    qtbot.mouseClick(page.event_button, LEFT)

    [task] = list_tasks(ctx, subject_id=subject.id)
    assert (task.priority, task.status) == ("high", "open")
    assert "抽检不合格" in task.reasons[0] and "CJ-2026-08" in task.reasons[0]
    assert "抽检面霜菌落总数超标" in task.reasons[0]
    text = page.due_label.text()
    assert re.match(r"应于 \d{4}-\d{2}-\d{2} 前检查", text), text
    assert text.startswith(f"应于 {task.due.isoformat()} 前检查") and "抽检不合格" in text
    assert changed == [1]


def test_subject_page_grade_dialog_changes_the_grade_with_a_reason(ctx, qtbot, monkeypatch, type_text):
    shop = _device(ctx, "驻马店市康宁医疗器械有限公司", 1, grade=2)
    page = _page(qtbot, ctx, shop.id)
    assert page.grade_model.rowCount() == 1

    def fill(grade: int, reason: str, who: str):
        def run(dialog: GradeDialog) -> int:
            dialog.show()
            fill.opened_with = dialog.grade.currentData()
            _choose(dialog.grade, grade)
            if reason:
                type_text(dialog.reason, reason)
            type_text(dialog.changed_by, who)
            qtbot.mouseClick(_save(dialog), LEFT)
            fill.message = dialog.message.text()
            return dialog.result()

        return run

    monkeypatch.setattr(GradeDialog, "exec", fill(3, "经营无菌植入类医疗器械，列入重点监管目录", "王所长"))
    qtbot.mouseClick(page.grade_button, LEFT)
    assert fill.opened_with == 2 and fill.message == ""
    assert get_subject(ctx, shop.id).grade == 3
    assert page.grade_model.rowCount() == 2
    assert page.grade_model.index(1, 1).data() == "二级 → 三级"
    assert page.grade_model.index(1, 2).data() == "经营无菌植入类医疗器械，列入重点监管目录"
    assert page.grade_model.index(1, 3).data() == "王所长"
    assert "三级" in page.grade_label.text()

    # no reason: the dialog says why and nothing changes
    monkeypatch.setattr(GradeDialog, "exec", fill(1, "", "王所长"))
    qtbot.mouseClick(page.grade_button, LEFT)
    assert fill.message == "调整风险等级必须填写理由"
    assert get_subject(ctx, shop.id).grade == 3
    assert len(grade_history(ctx, shop.id)) == 2 and page.grade_model.rowCount() == 2


def test_grade_dialog_opens_at_the_grade_the_page_shows(ctx, qtbot, monkeypatch):
    shop = _device(ctx, "驿城区康复之家器械商行", 2)  # not graded yet: default grade
    page = _page(qtbot, ctx, shop.id)
    assert "一级" in page.grade_label.text() and "未评定" in page.grade_label.text()
    opened = []

    def look(dialog: GradeDialog) -> int:
        opened.append(dialog.grade.currentData())
        return 0

    monkeypatch.setattr(GradeDialog, "exec", look)
    qtbot.mouseClick(page.grade_button, LEFT)
    assert opened == [1]


# --- 5. the plan dialog --------------------------------------------------------------------

def _type_number(qtbot, spin, value: int) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    assert spin.value() == value


def test_plan_dialog_draws_once_per_seed(ctx, qtbot):
    for n, grade in enumerate((3, 3, 2, 1, 1, 1, 1, 1, 1)):
        _device(ctx, f"器械店{n:02d}", 10 + n, grade=grade)
    for name, cert in [*OFFICERS, ("张卫东", "41170021003"), ("刘洋", "41170021004")]:
        add_inspector(ctx, name, cert)
    dialog = PlanDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.model.rowCount() == 0

    _type_number(qtbot, dialog.year, 2026)
    _type_number(qtbot, dialog.seed, 20260101)
    qtbot.mouseClick(dialog.draw_button, LEFT)

    rows = [dialog.model.row_at(r).as_dict() for r in range(dialog.model.rowCount())]
    assert len(rows) == 2 + 1 + 2  # every 三级 and 二级; ceil(30% of 6) 一级
    assert "随机种子 20260101" in dialog.result.text() and "2026 年计划：5 个监管对象" in dialog.result.text()
    assert "新建任务 5 个，并入已有任务 0 个" in dialog.result.text()
    assert all(len({o["cert_no"] for o in r["officers"]}) == 2 for r in rows)
    assert dialog.model.index(0, 3).data().count("（") == 2
    tasks = list_tasks(ctx)
    assert len(tasks) == 5 and {t.priority for t in tasks} == {"low"}

    qtbot.mouseClick(dialog.draw_button, LEFT)
    assert "该计划此前已生成，未重复建任务" in dialog.result.text()
    assert [dialog.model.row_at(r).as_dict() for r in range(dialog.model.rowCount())] == rows
    assert len(list_tasks(ctx)) == 5
    assert all(len(t.reasons) == 1 for t in list_tasks(ctx))

    # another seed for a year already drawn is refused: no redrawing until a preferred result
    _type_number(qtbot, dialog.seed, 7)
    qtbot.mouseClick(dialog.draw_button, LEFT)
    assert "已用随机种子 20260101" in dialog.result.text() and "不能换种子" in dialog.result.text()
    assert len(list_tasks(ctx)) == 5


def test_plan_dialog_says_why_it_cannot_draw(ctx, qtbot):
    _device(ctx, "三级器械店", 1, grade=3)
    add_inspector(ctx, *OFFICERS[0])  # one inspector is not enough for 双随机
    dialog = PlanDialog(ctx)
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.draw_button, LEFT)
    assert dialog.result.text() == "执法人员名录中至少需要两名在岗执法人员才能随机分派"
    assert dialog.model.rowCount() == 0 and list_tasks(ctx) == []


# --- 6. cancelling a task ------------------------------------------------------------------

def test_cancel_a_task_from_the_queue(ctx, qtbot, monkeypatch, message_boxes):
    shop = _device(ctx, "网格巡查器械店", 1, grid="东区")
    record_event(ctx, shop.id, "grid_finding", ctx.clock().date(), details="门店未悬挂备案凭证")
    queue = TaskQueue(ctx, runner=ImmediateRunner(), open_inspection=lambda _id: None)
    qtbot.addWidget(queue)
    queue.show()
    qtbot.waitExposed(queue)
    changed = []
    queue.changed.connect(lambda: changed.append(1))
    asked = []

    def answer(text):
        def get_text(_parent, title, label, *args, **kwargs):
            asked.append((title, label))
            return text, True

        return get_text

    # an empty reason: a warning, nothing changes
    monkeypatch.setattr(QInputDialog, "getText", answer("   "))
    _click_row(qtbot, queue, 0)
    qtbot.mouseClick(queue.cancel_button, LEFT)
    assert asked == [("取消任务", "取消理由：")]
    assert message_boxes.texts("warning") == ["取消任务必须填写理由"]
    assert list_tasks(ctx)[0].status == "open" and queue.proxy.rowCount() == 1
    assert changed == []

    monkeypatch.setattr(QInputDialog, "getText", answer("重复线索"))
    qtbot.mouseClick(queue.cancel_button, LEFT)
    [task] = list_tasks(ctx)
    assert (task.status, task.cancel_reason) == ("cancelled", "重复线索")
    assert queue.proxy.rowCount() == 0 and changed == [1]
    _choose(queue.status, "cancelled")
    assert [t.id for t in _rows(queue)] == [task.id]
    assert len(message_boxes.texts("warning")) == 1


def test_a_started_task_cannot_be_cancelled(ctx, qtbot, monkeypatch, message_boxes):
    shop = _device(ctx, "已开始检查器械店", 1)
    record_event(ctx, shop.id, "complaint", ctx.clock().date())
    start_task(ctx, list_tasks(ctx)[0].id, [OfficerData(*o) for o in OFFICERS])
    queue = TaskQueue(ctx, runner=ImmediateRunner(), open_inspection=lambda _id: None)
    qtbot.addWidget(queue)
    queue.show()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("重复线索", True))
    _click_row(qtbot, queue, 0)
    qtbot.mouseClick(queue.cancel_button, LEFT)
    assert message_boxes.texts("warning") == ["该任务的检查已经开始，不能取消"]
    assert list_tasks(ctx)[0].status == "in_progress"


# --- found while writing these tests ----------------------------------------------------------

def test_task_inspection_keeps_the_kind_chosen(ctx, qtbot, monkeypatch):
    shop = _device(ctx, "日常巡查器械店", 1)
    record_event(ctx, shop.id, "grid_finding", ctx.clock().date())
    opened = []
    queue = TaskQueue(ctx, runner=ImmediateRunner(), open_inspection=opened.append)
    qtbot.addWidget(queue)
    queue.show()

    def routine(dialog: NewInspectionDialog) -> int:
        assert dialog.kind.isEnabled()  # offered to the user...
        _choose(dialog.kind, "routine")
        dialog.officer_names[0].setText("王建国")
        qtbot.mouseClick(_ok(dialog), LEFT)
        return dialog.result()

    monkeypatch.setattr(NewInspectionDialog, "exec", routine)
    _click_row(qtbot, queue, 0)
    qtbot.mouseClick(queue.start_button, LEFT)
    [inspection_id] = opened
    assert svc.load_inspection(ctx, inspection_id).kind == "routine"  # ...but ignored
