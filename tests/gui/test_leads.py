"""Users and leads through the real widgets: log-in, the grid worker's screen, the station's inbox.

The lead loop (上报 → 接收 → 分办 → 处置 → 反馈 → 办结) is driven by clicks on the
buttons each role sees; QInputDialog's static pickers are answered by monkeypatching,
as a person would answer them.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
)

from core import leads
from core.attachments import read_attachment
from core import inspections as svc
from core.tasks import list_tasks
from core.users import add_user, list_users, log_in
from gui.history_dialog import HistoryDialog
from gui.windows import FRAME_HEIGHT, FRAME_WIDTH
from gui.inspection_editor import InspectionEditor
from gui.jobs import ImmediateRunner
from gui.leads_view import GridWorkerWindow, LeadInbox, LeadTableModel
from gui.login_dialog import LoginDialog
from gui.main_window import MainWindow
from tests.gui.helpers import open_main_window
from gui.models import ROW_ROLE

LEFT = Qt.MouseButton.LeftButton

ADMIN = ("王所长", "admin123")
INSPECTOR = ("王建国", "41170021001", "wjg2026")
OTHER_INSPECTOR = ("李秀英", "41170021002", "lxy2026")
GRID_WORKER = ("马红", "西园社区", "mahong1")

# LeadTableModel's columns
STATUS, DUE, REPORTER, ASSIGNEE, FEEDBACK = 3, 4, 5, 6, 7
SUBJECT_COL = 2


# --- helpers ---------------------------------------------------------------------------

@pytest.fixture
def people(ctx):
    """The station's users: an admin, two inspectors who can log in, a grid worker."""
    add_user(ctx, name=ADMIN[0], role="admin", password=ADMIN[1])
    add_user(ctx, name=INSPECTOR[0], role="inspector", cert_no=INSPECTOR[1], password=INSPECTOR[2])
    add_user(ctx, name=OTHER_INSPECTOR[0], role="inspector", cert_no=OTHER_INSPECTOR[1], password=OTHER_INSPECTOR[2])
    add_user(ctx, name=GRID_WORKER[0], role="grid_worker", grid=GRID_WORKER[1], password=GRID_WORKER[2])
    return {u.name: u for u in list_users(ctx)}


def _as(ctx, who: tuple) -> None:
    """Log out whoever is logged in, and log ``who`` in (name, ..., password)."""
    ctx.user = None
    log_in(ctx, who[0], who[-1])
    assert ctx.user.name == who[0]


@pytest.fixture
def jpeg_file(tmp_path):
    from PIL import Image

    path = tmp_path / "集市摊位.jpg"
    Image.new("RGB", (80, 60), (30, 120, 200)).save(path, format="JPEG")
    return path


@pytest.fixture
def not_an_image(tmp_path):
    path = tmp_path / "假照片.jpg"
    path.write_text("这不是图片", encoding="utf-8")
    return path


def _pick_files(monkeypatch, *paths):
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(p) for p in paths], ""))


def _ok(dialog):
    return dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)


def _grid_window(qtbot, ctx) -> GridWorkerWindow:
    window = GridWorkerWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _main_window(qtbot, ctx) -> MainWindow:
    return open_main_window(qtbot, ctx)


def _inbox_tab(qtbot, window: MainWindow) -> LeadInbox:
    """Click the 网格线索 tab."""
    bar = window.tabs.tabBar()
    index = window.tabs.indexOf(window.lead_inbox)
    assert window.tabs.tabText(index) == "网格线索"
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    assert window.tabs.currentWidget() is window.lead_inbox
    return window.lead_inbox


def _click_row(qtbot, view, row: int) -> None:
    index = view.model().index(row, 0)
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(index).center())
    assert view.currentIndex().row() == row


def _cell(model, row: int, column: int) -> str:
    return model.index(row, column).data()


def _enabled(inbox: LeadInbox) -> set[str]:
    return {key for key, button in inbox.buttons.items() if button.isEnabled()}


def _report(ctx, subject=None, **fields) -> str:
    """A lead reported by the grid worker through the core (set-up for the inbox tests)."""
    _as(ctx, GRID_WORKER)
    if subject is not None:
        fields.setdefault("subject_id", subject.id)
    fields.setdefault("category", "unlicensed_selling")
    fields.setdefault("description", "柜台上摆着无中文标签的面霜")
    lead_id = leads.report_lead(ctx, **fields)
    ctx.user = None
    return lead_id


def _advance(ctx, people, lead_id: str, to: str) -> None:
    """Move a lead along the loop through the core, as the station would (system user)."""
    real = ctx.user
    ctx.user = None
    steps = [
        ("received", lambda: leads.receive_lead(ctx, lead_id)),
        ("assigned", lambda: leads.assign_lead(ctx, lead_id, people[INSPECTOR[0]].id)),
        ("handled", lambda: leads.handle_lead(ctx, lead_id, "case", "并入案件")),
        ("fed_back", lambda: leads.feed_back(ctx, lead_id, "已立案")),
        ("closed", lambda: leads.close_lead(ctx, lead_id)),
    ]
    try:
        for status, step in steps:
            step()
            if status == to:
                return
    finally:
        ctx.user = real


# --- 1. log-in: first run creates the admin ----------------------------------------------

def test_first_run_creates_the_admin_and_logs_in(ctx, qtbot, type_text):
    assert list_users(ctx) == []
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.first_run
    assert dialog.windowTitle() == "创建站所管理员"
    assert dialog.repeat.isVisible()
    assert _ok(dialog).text() == "创建并登录"

    type_text(dialog.name, ADMIN[0])
    qtbot.keyClicks(dialog.password, ADMIN[1])
    qtbot.keyClicks(dialog.repeat, ADMIN[1] + "x")
    qtbot.mouseClick(_ok(dialog), LEFT)

    assert dialog.message.text() == "两次输入的密码不一致"
    assert list_users(ctx) == [] and ctx.user is None
    assert dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected

    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Backspace)  # correct the repeat
    assert dialog.repeat.text() == dialog.password.text()
    qtbot.mouseClick(_ok(dialog), LEFT)

    assert dialog.result() == QDialog.DialogCode.Accepted
    [admin] = list_users(ctx)
    assert (admin.name, admin.role, admin.can_log_in) == (ADMIN[0], "admin", True)
    assert ctx.user is not None and ctx.user.id == admin.id and ctx.user.role == "admin"


def test_first_run_refuses_a_short_password(ctx, qtbot, type_text):
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(dialog.name, ADMIN[0])
    qtbot.keyClicks(dialog.password, "123")
    qtbot.keyClicks(dialog.repeat, "123")
    qtbot.mouseClick(_ok(dialog), LEFT)
    assert dialog.message.text() == "密码至少 6 位"
    assert list_users(ctx) == [] and ctx.user is None
    assert dialog.result() == QDialog.DialogCode.Rejected


# --- 2. log-in: wrong passwords, lock-out, another user -----------------------------------------

def test_login_counts_failures_locks_and_lets_another_user_in(ctx, people, qtbot, type_text):
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.first_run
    assert not dialog.repeat.isVisible()  # no 再次输入密码 when logging in
    assert _ok(dialog).text() == "登录"

    type_text(dialog.name, INSPECTOR[0])
    messages = []
    for _ in range(5):
        qtbot.keyClicks(dialog.password, "wrong-pass")
        qtbot.mouseClick(_ok(dialog), LEFT)
        messages.append(dialog.message.text())
        assert dialog.password.text() == ""  # cleared for the next try
        assert ctx.user is None and dialog.result() == QDialog.DialogCode.Rejected
    assert messages[:4] == ["用户名或密码错误"] * 4  # the same answer an unknown name gets
    assert "锁定" in messages[4] and "5 次" in messages[4]

    # locked: even the right password is refused for now
    qtbot.keyClicks(dialog.password, INSPECTOR[2])
    qtbot.mouseClick(_ok(dialog), LEFT)
    assert "锁定" in dialog.message.text() and ctx.user is None

    # another user logs in on the same dialog
    dialog.name.clear()
    type_text(dialog.name, ADMIN[0])
    qtbot.keyClicks(dialog.password, ADMIN[1])
    qtbot.mouseClick(_ok(dialog), LEFT)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert ctx.user is not None and ctx.user.id == people[ADMIN[0]].id and ctx.user.role == "admin"


def test_login_with_enter_and_unknown_user(ctx, people, qtbot, type_text):
    dialog = LoginDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(dialog.name, "不存在的人")
    qtbot.keyClicks(dialog.password, "whatever1")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)  # Enter is the default button
    assert dialog.message.text() == "用户名或密码错误"
    dialog.name.clear()
    type_text(dialog.name, GRID_WORKER[0])
    qtbot.keyClicks(dialog.password, GRID_WORKER[2])
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert ctx.user.role == "grid_worker"


# --- 3. the grid worker reports -------------------------------------------------------------

def _choose_category(window: GridWorkerWindow, code: str) -> None:
    index = window.category.findData(code)
    assert index >= 0
    window.category.setCurrentIndex(index)
    assert window.category.currentText() == leads.CATEGORIES[code]


def _type_description(qtbot, type_text, window: GridWorkerWindow, text: str) -> None:
    qtbot.mouseClick(window.description.viewport(), LEFT)
    type_text(window.description, text)
    assert window.description.toPlainText() == text


def test_grid_worker_reports_a_finding_with_a_photo(ctx, people, subject, qtbot, monkeypatch, type_text, jpeg_file):
    _as(ctx, GRID_WORKER)
    window = _grid_window(qtbot, ctx)
    assert window.windowTitle() == f"网格员 — {GRID_WORKER[0]}"
    assert window.model.rowCount() == 0

    _choose_category(window, "cosmetics_violation")
    type_text(window.subject, subject.name)
    window.subject.completer().popup().hide()
    type_text(window.place, "店内东侧货架")
    _type_description(qtbot, type_text, window, "货架上有无中文标签的面霜出售")
    _pick_files(monkeypatch, jpeg_file)
    qtbot.mouseClick(window.photo_button, LEFT)
    assert window.photo_label.text() == "已添加 1 张照片"
    qtbot.mouseClick(window.submit_button, LEFT)

    assert window.message.text() == "已上报，所里接收后会在右侧显示处理进度。"
    [lead] = leads.list_leads(ctx)
    assert lead.subject_id == subject.id and lead.subject == subject.name and lead.address == subject.address
    assert (lead.category, lead.place, lead.status) == ("cosmetics_violation", "店内东侧货架", "reported")
    assert lead.description == "货架上有无中文标签的面霜出售"
    assert lead.reporter == GRID_WORKER[0]
    [photo] = lead.photos
    assert photo.is_file() and read_attachment(ctx, photo) == jpeg_file.read_bytes()
    # the form is empty again, ready for the next finding
    assert window.subject.text() == window.place.text() == window.description.toPlainText() == ""
    assert window.photo_label.text() == "未添加照片" and window.photos == []
    # 我上报的线索 lists it
    assert window.model.rowCount() == 1
    assert window.model.row_at(0).id == lead.id
    assert _cell(window.model, 0, STATUS) == "已上报"
    assert _cell(window.model, 0, SUBJECT_COL) == subject.name


def test_grid_worker_reports_an_unregistered_party(ctx, people, subject, qtbot, type_text):
    _as(ctx, GRID_WORKER)
    window = _grid_window(qtbot, ctx)
    _choose_category(window, "unlicensed_selling")
    type_text(window.subject, "流动摊贩（无店招）")
    type_text(window.address, "驿城区西园社区集市东口")
    _type_description(qtbot, type_text, window, "集市上有人摆摊卖血压计，无证照")
    qtbot.mouseClick(window.submit_button, LEFT)

    assert window.message.text().startswith("已上报")
    [lead] = leads.list_leads(ctx)
    assert lead.subject_id is None
    assert (lead.subject, lead.address) == ("流动摊贩（无店招）", "驿城区西园社区集市东口")
    assert lead.photos == []
    assert _cell(window.model, 0, STATUS) == "已上报"


def test_grid_worker_without_a_description_is_told_and_nothing_is_saved(ctx, people, subject, qtbot, type_text):
    _as(ctx, GRID_WORKER)
    window = _grid_window(qtbot, ctx)
    type_text(window.subject, subject.name)
    type_text(window.place, "门口")
    qtbot.mouseClick(window.submit_button, LEFT)

    assert window.message.text() == "请描述发现的问题"
    assert leads.list_leads(ctx) == [] and window.model.rowCount() == 0
    assert window.subject.text() == subject.name and window.place.text() == "门口"  # nothing typed is lost


def test_grid_worker_without_a_party_is_told(ctx, people, qtbot, type_text):
    _as(ctx, GRID_WORKER)
    window = _grid_window(qtbot, ctx)
    _type_description(qtbot, type_text, window, "有人卖假药")
    qtbot.mouseClick(window.submit_button, LEFT)
    assert window.message.text() == "请选择监管对象，或填写未登记经营者的名称"
    assert leads.list_leads(ctx) == []


def test_grid_worker_photo_that_is_not_an_image_is_refused(
    ctx, people, subject, qtbot, monkeypatch, type_text, not_an_image
):
    _as(ctx, GRID_WORKER)
    window = _grid_window(qtbot, ctx)
    type_text(window.subject, subject.name)
    _type_description(qtbot, type_text, window, "过期化妆品仍在销售")
    _pick_files(monkeypatch, not_an_image)
    qtbot.mouseClick(window.photo_button, LEFT)

    # refused when picked, before anything is reported or stored
    assert window.message.text() == f"不是可识别的图片，未添加：{not_an_image.name}"
    assert window.photos == [] and window.photo_label.text() == "未添加照片"
    assert leads.list_leads(ctx) == [] and window.model.rowCount() == 0
    assert not ctx.attachments_dir.exists() or not any(p.is_file() for p in ctx.attachments_dir.rglob("*"))


def test_grid_worker_can_still_report_after_a_refused_photo(
    ctx, people, subject, qtbot, monkeypatch, type_text, not_an_image, jpeg_file
):
    _as(ctx, GRID_WORKER)
    window = _grid_window(qtbot, ctx)
    type_text(window.subject, subject.name)
    _type_description(qtbot, type_text, window, "过期化妆品仍在销售")
    _pick_files(monkeypatch, not_an_image)
    qtbot.mouseClick(window.photo_button, LEFT)
    qtbot.mouseClick(window.submit_button, LEFT)
    reported = leads.list_leads(ctx)
    assert len(reported) == 1
    assert all(len(lead.photos) == 0 for lead in reported)  # the non-image went nowhere

    # the next finding (the form is empty after a report): a refused file, then the right photo
    type_text(window.subject, subject.name)
    _type_description(qtbot, type_text, window, "货架上的面霜已过期")
    _pick_files(monkeypatch, not_an_image)
    qtbot.mouseClick(window.photo_button, LEFT)
    _pick_files(monkeypatch, jpeg_file)
    qtbot.mouseClick(window.photo_button, LEFT)
    qtbot.mouseClick(window.submit_button, LEFT)
    # however the fix goes (refuse the file when picked, or drop it when refused), the finding gets reported
    assert window.message.text().startswith("已上报")
    [lead] = [lead for lead in leads.list_leads(ctx) if lead.id != reported[0].id]
    assert lead.description == "货架上的面霜已过期"
    assert len(lead.photos) == 1
    assert all(read_attachment(ctx, photo) == jpeg_file.read_bytes() for photo in lead.photos)


def test_grid_worker_can_tell_apart_two_shops_of_the_same_name(ctx, people, qtbot, type_text):
    from core.subjects import SubjectData, add_subject

    east = add_subject(ctx, SubjectData(name="仁和大药房", category="drug_retailer", address="驿城区东风路1号"))
    west = add_subject(ctx, SubjectData(name="仁和大药房", category="drug_retailer", address="驿城区西园路2号"))
    _as(ctx, GRID_WORKER)
    window = _grid_window(qtbot, ctx)
    completer = window.subject.completer()
    completer.setCompletionPrefix("仁和")
    offered = [completer.completionModel().index(r, 0).data() for r in range(completer.completionCount())]
    assert len(offered) == 2, offered  # one entry per shop, so the worker can pick the right one
    assert east.id != west.id


def _shown_text(label: QLabel) -> str:
    """What a QLabel displays: its text, or the text of its rich text as rendered."""
    from PySide6.QtGui import Qt as QtGui_Qt, QTextDocument

    text = label.text()
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and QtGui_Qt.mightBeRichText(text))
    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def test_inbox_detail_shows_what_the_grid_worker_typed(ctx, people, qtbot):
    description = "卖价格<10元的血压计，>5个，标称“治疗高血压”"
    _report(ctx, party_name="流动摊贩<无店招>", party_address="集市东口 A&B 摊位", description=description)
    _as(ctx, ADMIN)
    inbox = LeadInbox(ctx)
    qtbot.addWidget(inbox)
    inbox.show()
    _click_row(qtbot, inbox.view, 0)
    shown = _shown_text(inbox.detail)
    assert "流动摊贩<无店招>" in shown and "集市东口 A&B 摊位" in shown
    assert description in shown, shown


# --- 4. the whole loop through the screens ---------------------------------------------------

def test_lead_loop_from_inbox_to_the_grid_workers_screen(
    ctx, people, subject, qtbot, monkeypatch, message_boxes, type_text, jpeg_file
):
    # the grid worker reports it on their screen
    _as(ctx, GRID_WORKER)
    worker = _grid_window(qtbot, ctx)
    _choose_category(worker, "cosmetics_violation")
    type_text(worker.subject, subject.name)
    worker.subject.completer().popup().hide()
    _type_description(qtbot, type_text, worker, "货架上有无中文标签的面霜出售")
    _pick_files(monkeypatch, jpeg_file)
    qtbot.mouseClick(worker.photo_button, LEFT)
    qtbot.mouseClick(worker.submit_button, LEFT)
    [reported] = leads.list_leads(ctx)
    worker.close()

    # --- the admin receives and assigns -----------------------------------------------------
    _as(ctx, ADMIN)
    window = _main_window(qtbot, ctx)
    inbox = _inbox_tab(qtbot, window)
    model = inbox.model
    assert model.rowCount() == 1 and model.row_at(0).id == reported.id
    assert _cell(model, 0, STATUS) == "已上报"
    assert _cell(model, 0, REPORTER) == GRID_WORKER[0]  # the admin sees who reported it
    assert _enabled(inbox) == set()  # nothing selected yet
    _click_row(qtbot, inbox.view, 0)
    assert "照片 1 张" in inbox.detail.text() and subject.name in inbox.detail.text()

    qtbot.mouseClick(inbox.buttons["receive"], LEFT)
    received = leads.get_lead(ctx, reported.id)
    assert received.status == "received" and received.due is not None
    assert _cell(model, 0, STATUS) == "已接收"
    assert _cell(model, 0, DUE) == received.due.isoformat()
    assert inbox.view.currentIndex().data(ROW_ROLE).id == reported.id  # still selected after the refresh
    assert _enabled(inbox) == {"assign"}

    offered = []

    def pick_item(answer):
        def get_item(_parent, title, label, items, *args, **kwargs):
            offered.append((title, label, list(items)))
            return answer(items), True

        return get_item

    inspector_entry = f"{INSPECTOR[0]}（{INSPECTOR[1]}）"
    monkeypatch.setattr(QInputDialog, "getItem", pick_item(lambda _items: inspector_entry))
    qtbot.mouseClick(inbox.buttons["assign"], LEFT)
    [(title, label, items)] = offered
    assert (title, label) == ("分办线索", "承办人：")
    assert sorted(items) == sorted([inspector_entry, f"{OTHER_INSPECTOR[0]}（{OTHER_INSPECTOR[1]}）"])
    assert _cell(model, 0, STATUS) == "已分办"
    assert _cell(model, 0, ASSIGNEE) == INSPECTOR[0]
    assert leads.get_lead(ctx, reported.id).assigned_to == INSPECTOR[0]
    assert _enabled(inbox) == {"assign", "handle"}
    assert message_boxes.shown == []
    window.close()

    # --- the assigned inspector handles: a trigger event makes a task --------------------------
    _as(ctx, INSPECTOR)
    window = _main_window(qtbot, ctx)
    inbox = _inbox_tab(qtbot, window)
    model = inbox.model
    assert _cell(model, 0, REPORTER) == GRID_WORKER[0]  # the assignee sees the reporter too
    _click_row(qtbot, inbox.view, 0)
    offered.clear()
    monkeypatch.setattr(QInputDialog, "getItem", pick_item(lambda _items: leads.HANDLINGS["event"]))
    texts = []

    def multi_line(answer):
        def get_text(_parent, title, label, *args, **kwargs):
            texts.append((title, label))
            return answer, True

        return get_text

    monkeypatch.setattr(QInputDialog, "getMultiLineText", multi_line("核查"))
    assert list_tasks(ctx, subject_id=subject.id) == []
    qtbot.mouseClick(inbox.buttons["handle"], LEFT)
    assert offered[0][2] == list(leads.HANDLINGS.values())
    assert texts == [("处置线索", "核查情况（不属实时必填）：")]
    assert message_boxes.shown == []
    handled = leads.get_lead(ctx, reported.id)
    assert (handled.status, handled.handling, handled.handling_note) == ("handled", "event", "核查")
    [task] = list_tasks(ctx, subject_id=subject.id)
    assert task.status == "open" and any("网格员线索" in r for r in task.reasons)
    assert _cell(model, 0, STATUS) == "已处置"
    assert _enabled(inbox) == {"feedback"}
    # the new task shows in the 检查任务 tab too
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(window.tabs.indexOf(window.task_queue)).center())
    assert window.task_queue.proxy.rowCount() == 1
    assert window.task_queue.proxy.index(0, 0).data(ROW_ROLE).id == task.id
    inbox = _inbox_tab(qtbot, window)
    assert inbox.view.currentIndex().data(ROW_ROLE).id == reported.id  # the lead is still selected

    feedback = "已现场检查，责令下架无中文标签面霜"
    monkeypatch.setattr(QInputDialog, "getMultiLineText", multi_line(feedback))
    qtbot.mouseClick(inbox.buttons["feedback"], LEFT)
    assert _cell(model, 0, STATUS) == "已反馈"
    assert _cell(model, 0, FEEDBACK) == feedback
    assert leads.get_lead(ctx, reported.id).status == "fed_back"
    assert _enabled(inbox) == set()  # closing is the admin's
    window.close()

    # --- the admin closes it ------------------------------------------------------------------
    _as(ctx, ADMIN)
    window = _main_window(qtbot, ctx)
    inbox = _inbox_tab(qtbot, window)
    _click_row(qtbot, inbox.view, 0)
    assert _enabled(inbox) == {"close"}
    qtbot.mouseClick(inbox.buttons["close"], LEFT)
    assert _cell(inbox.model, 0, STATUS) == "已办结"
    assert _enabled(inbox) == set()
    assert message_boxes.shown == []
    steps = [label for label, _at, _who in leads.get_lead(ctx, reported.id).steps]
    assert steps == ["上报", "接收", "分办", "处置", "反馈", "办结"]
    window.close()

    # --- the grid worker sees what became of it ---------------------------------------------------
    _as(ctx, GRID_WORKER)
    worker = _grid_window(qtbot, ctx)
    assert worker.model.rowCount() == 1
    assert _cell(worker.model, 0, STATUS) == "已办结"
    assert _cell(worker.model, 0, FEEDBACK) == feedback
    assert _cell(worker.model, 0, ASSIGNEE) == INSPECTOR[0]


def test_unfounded_without_a_note_is_refused_with_a_message(ctx, people, qtbot, monkeypatch, message_boxes):
    lead_id = _report(ctx, party_name="流动摊贩", description="有人卖药")
    _advance(ctx, people, lead_id, "assigned")
    _as(ctx, INSPECTOR)
    inbox = LeadInbox(ctx)
    qtbot.addWidget(inbox)
    inbox.show()
    _click_row(qtbot, inbox.view, 0)
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: (leads.HANDLINGS["unfounded"], True))
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("  ", True))
    qtbot.mouseClick(inbox.buttons["handle"], LEFT)
    assert message_boxes.texts("warning") == ["经核查不属实的，必须写明核查情况"]
    assert leads.get_lead(ctx, lead_id).status == "assigned"

    # a trigger event for an unregistered party is refused with the reason
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: (leads.HANDLINGS["event"], True))
    qtbot.mouseClick(inbox.buttons["handle"], LEFT)
    assert message_boxes.texts("warning")[-1] == "未登记的经营者须先登记为监管对象，才能转为触发事件"
    assert leads.get_lead(ctx, lead_id).status == "assigned" and list_tasks(ctx) == []


# --- 5. the buttons follow the state ---------------------------------------------------------

@pytest.mark.parametrize("status, allowed", [
    ("reported", {"receive"}),
    ("received", {"assign"}),
    ("assigned", {"assign", "handle"}),
    ("handled", {"feedback"}),
    ("fed_back", {"close"}),
    ("closed", set()),
])
def test_inbox_buttons_follow_the_state(ctx, people, subject, qtbot, status, allowed):
    lead_id = _report(ctx, subject)
    if status != "reported":
        _advance(ctx, people, lead_id, status)
    _as(ctx, ADMIN)
    inbox = LeadInbox(ctx)
    qtbot.addWidget(inbox)
    inbox.show()
    qtbot.waitExposed(inbox)
    assert _enabled(inbox) == set()
    assert inbox.detail.text() == "选择一条线索查看详情"
    _click_row(qtbot, inbox.view, 0)
    assert _cell(inbox.model, 0, STATUS) == leads.STATUS_LABELS[status]
    assert _enabled(inbox) == allowed


@pytest.mark.parametrize("status, assignee, allowed", [
    ("reported", None, set()),
    ("received", None, set()),
    ("assigned", INSPECTOR, set()),  # someone else's lead
    ("assigned", OTHER_INSPECTOR, {"handle"}),  # their own: handle, but not re-assign
    ("fed_back", OTHER_INSPECTOR, set()),  # closing is the admin's
])
def test_inbox_offers_an_inspector_only_what_the_role_may_do(
    ctx, people, subject, qtbot, message_boxes, status, assignee, allowed
):
    lead_id = _report(ctx, subject)
    if status != "reported":
        _advance(ctx, people, lead_id, "received")
    if assignee is not None:
        leads.assign_lead(ctx, lead_id, people[assignee[0]].id)
        if status == "fed_back":
            _as(ctx, assignee)
            leads.handle_lead(ctx, lead_id, "case", "并入案件")
            leads.feed_back(ctx, lead_id, "已立案")
    assert leads.get_lead(ctx, lead_id).status == status
    _as(ctx, OTHER_INSPECTOR)
    inbox = LeadInbox(ctx)
    qtbot.addWidget(inbox)
    inbox.show()
    _click_row(qtbot, inbox.view, 0)
    assert _enabled(inbox) == allowed
    for key in set(inbox.buttons) - allowed:  # a click on what is not offered does nothing
        qtbot.mouseClick(inbox.buttons[key], LEFT)
    assert message_boxes.shown == []
    assert leads.get_lead(ctx, lead_id).status == status


# --- 6. who reported it stays private --------------------------------------------------------

def test_reporter_is_hidden_from_an_inspector_who_is_not_the_assignee(ctx, people, subject, qtbot):
    lead_id = _report(ctx, subject)
    _advance(ctx, people, lead_id, "assigned")  # to 王建国

    _as(ctx, OTHER_INSPECTOR)
    window = _main_window(qtbot, ctx)
    inbox = _inbox_tab(qtbot, window)
    assert _cell(inbox.model, 0, REPORTER) == leads.HIDDEN
    _click_row(qtbot, inbox.view, 0)
    assert GRID_WORKER[0] not in inbox.detail.text()
    assert leads.HIDDEN in inbox.detail.text()
    window.close()

    _as(ctx, INSPECTOR)  # the assignee does see it
    inbox = LeadInbox(ctx)
    qtbot.addWidget(inbox)
    assert _cell(inbox.model, 0, REPORTER) == GRID_WORKER[0]


# --- 7. a record's history and the models ----------------------------------------------------

def test_history_dialog_shows_the_logged_in_inspector(ctx, people, subject, qtbot, monkeypatch, qtmodeltester):
    _as(ctx, INSPECTOR)
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531",
                                         [svc.OfficerData(INSPECTOR[0], INSPECTOR[1])], kind="routine")
    editor = InspectionEditor(ctx, inspection_id, runner=ImmediateRunner())
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    qtbot.mouseClick(editor.rows["A1"].buttons["fail"], LEFT)
    assert svc.load_inspection(ctx, inspection_id).answer("A1").result == "fail"

    shown = []

    def capture(dialog: HistoryDialog) -> int:
        shown.append(dialog)
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(HistoryDialog, "exec", capture)
    qtbot.mouseClick(editor.history_button, LEFT)

    [dialog] = shown
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == f"修改记录 — {editor.record.number}"
    model = dialog.model
    assert model.rowCount() >= 2
    actors = {model.index(r, 2).data() for r in range(model.rowCount())}
    assert actors == {INSPECTOR[0]}
    actions = [model.index(r, 3).data() for r in range(model.rowCount())]
    assert actions[0] == "新建"
    rows = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
    assert any(row[4].startswith("检查项结果（A1") and row[5:] == ["结果", "", "不符合"] for row in rows), rows
    state = dialog.findChildren(QLabel)[0]
    assert state.text().startswith("✔"), state.text()
    qtmodeltester.check(model)


def test_lead_table_model(ctx, people, subject, qtmodeltester):
    real_clock = ctx.clock
    ctx.clock = lambda: real_clock() - timedelta(days=40)
    old = _report(ctx, subject, description="过期药品")
    _advance(ctx, people, old, "received")  # received 40 days ago: overdue now
    ctx.clock = real_clock
    _report(ctx, party_name="流动摊贩", description="无证卖药")
    done = _report(ctx, subject, description="已处理")
    _advance(ctx, people, done, "closed")
    _as(ctx, ADMIN)

    model = LeadTableModel()
    model.set_rows(leads.list_leads(ctx))
    assert model.rowCount() == 3
    qtmodeltester.check(model)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["上报时间", "类别", "对象", "状态", "核查期限", "上报人", "承办人", "反馈"]
    assert model.row_at(0).id == old and model.row_at(0).overdue  # overdue first
    assert _cell(model, 0, DUE).endswith("（逾期）")
    assert model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.row_at(2).id == done  # closed last
    assert model.index(2, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    model.set_rows([])
    qtmodeltester.check(model)


# --- 8. the grid worker's screen fits a 1366×768 laptop ----------------------------------------

def _grid_worker_at_1366(ctx, qtbot) -> GridWorkerWindow:
    """The grid worker's window as large as a 1366×768 screen leaves it once framed, shown."""
    _as(ctx, GRID_WORKER)
    window = GridWorkerWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1366 - FRAME_WIDTH, 768 - FRAME_HEIGHT)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_grid_worker_window_fits_1366x768(ctx, people, subject, qtbot):
    lead_id = _report(ctx, subject)
    _advance(ctx, people, lead_id, "closed")
    window = _grid_worker_at_1366(ctx, qtbot)
    assert (window.width(), window.height()) == (1366 - FRAME_WIDTH, 768 - FRAME_HEIGHT)
    inside = QRect(QPoint(0, 0), window.size())

    widgets = [w for cls in (QPushButton, QLineEdit, QComboBox) for w in window.findChildren(cls)]
    assert window.photo_button in widgets and window.submit_button in widgets and window.subject in widgets
    assert window.category in widgets and window.address in widgets and window.place in widgets
    for widget in widgets:
        name = f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r}"
        assert widget.isVisible(), name
        top_left = widget.mapTo(window, QPoint(0, 0))
        rect = QRect(top_left, widget.size())
        assert inside.contains(rect), (name, rect, inside)
        assert widget.width() >= widget.minimumSizeHint().width() or isinstance(widget, QLineEdit), name
    # the description box and the list are visible too, not squeezed to nothing
    for widget in (window.description, window.view):
        rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
        assert widget.isVisible() and inside.contains(rect) and rect.height() >= 60, rect


def test_lead_inbox_fits_1366x768(ctx, people, subject, qtbot):
    _report(ctx, subject)
    _as(ctx, ADMIN)
    window = MainWindow(ctx, runner=ImmediateRunner())
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    inbox = _inbox_tab(qtbot, window)
    _click_row(qtbot, inbox.view, 0)
    inside = QRect(QPoint(0, 0), window.size())
    for key, button in inbox.buttons.items():
        rect = QRect(button.mapTo(window, QPoint(0, 0)), button.size())
        assert button.isVisible() and inside.contains(rect), (key, rect, inside)
        assert button.width() >= button.minimumSizeHint().width(), key
    rect = QRect(inbox.detail.mapTo(window, QPoint(0, 0)), inbox.detail.size())
    assert inbox.detail.isVisible() and inside.contains(rect)


def test_grid_worker_opens_the_sync_panel(ctx, people, qtbot):
    from gui.sync_panel import SyncPanel

    _as(ctx, GRID_WORKER)
    window = _grid_window(qtbot, ctx)
    qtbot.mouseClick(window.sync_button, LEFT)
    [panel] = [w for w in window.findChildren(SyncPanel) if w.isVisible()]
    assert panel.windowTitle() == "数据同步"
    panel.close()


def test_lead_photos_open_from_the_inbox(ctx, people, subject, qtbot, jpeg_file):
    from gui.photo_viewer import PhotoViewer

    _report(ctx, subject, photos=[jpeg_file])
    _as(ctx, ADMIN)
    window = MainWindow(ctx, runner=ImmediateRunner())
    qtbot.addWidget(window)
    window.show()
    inbox = _inbox_tab(qtbot, window)
    assert not inbox.photos_button.isEnabled()  # nothing chosen yet
    _click_row(qtbot, inbox.view, 0)
    assert inbox.photos_button.isEnabled()
    qtbot.mouseClick(inbox.photos_button, LEFT)
    viewer = inbox.findChild(PhotoViewer)
    assert viewer is not None and viewer.isVisible()
    [image] = viewer.images
    assert image.pixmap() is not None and (image.pixmap().width(), image.pixmap().height()) == (80, 60)


def test_the_grid_workers_feedback_column_needs_no_horizontal_scrolling(ctx, people, subject, qtbot):
    lead_id = _report(ctx, subject)
    _advance(ctx, people, lead_id, "handled")
    feedback = "已安排执法人员到店检查，责令下架无中文标签的面霜并登记供货者，后续将复查整改情况，感谢您的报告。" * 2
    ctx.user = None
    leads.feed_back(ctx, lead_id, feedback)
    window = _grid_worker_at_1366(ctx, qtbot)
    view = window.view
    column = [h for h, _g in type(window.model).columns].index("反馈")
    assert window.model.index(0, column).data() == feedback
    rect = view.visualRect(window.model.index(0, column))
    assert rect.left() >= 0 and rect.right() <= view.viewport().width() + 1, (rect, view.viewport().rect())
    needed = view.fontMetrics().boundingRect(QRect(0, 0, rect.width() - 8, 10000),
                                             int(Qt.TextFlag.TextWordWrap), feedback).height()
    assert rect.height() >= needed, (rect.height(), needed)  # the row grew to show all of it


def test_a_lead_handled_as_a_case_drafts_the_filing_from_the_inbox(ctx, people, subject, qtbot, type_text,
                                                                   monkeypatch):
    from core.casework.store import list_case_documents
    from gui.case_filing import CaseFilingDialog, LeadCaseDialog

    lead_id = _report(ctx, subject)
    _advance(ctx, people, lead_id, "assigned")  # to 王建国
    _as(ctx, INSPECTOR)
    inbox = LeadInbox(ctx)
    qtbot.addWidget(inbox)
    inbox.show()
    _click_row(qtbot, inbox.view, 0)
    assert not inbox.case_button.isEnabled()  # not handled as a case (yet)
    leads.handle_lead(ctx, lead_id, "case", "现场核实确有销售")
    inbox.refresh()
    _click_row(qtbot, inbox.view, 0)
    assert inbox.case_button.isEnabled()
    seen = []

    def choose(dialog: LeadCaseDialog) -> int:
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.names[0].text() == INSPECTOR[0] and dialog.certs[0].text() == INSPECTOR[1]
        type_text(dialog.names[1], OTHER_INSPECTOR[0])
        # Enter: the 执法证号 fills in from the station's list, then the form's default button 拟制 saves
        qtbot.keyClick(dialog.names[1], Qt.Key.Key_Return)
        assert dialog.certs[1].text() == OTHER_INSPECTOR[1]
        seen.append(dialog.message.text())
        return dialog.result()

    opened = []
    monkeypatch.setattr(LeadCaseDialog, "exec", choose)
    monkeypatch.setattr(CaseFilingDialog, "exec", lambda d: opened.append(d.record.number) or 0)
    qtbot.mouseClick(inbox.case_button, LEFT)
    [filing] = list_case_documents(ctx, kind="case_filing")
    assert opened == [filing.number] and filing.content["lead_id"] == lead_id
    assert filing.content["officers"] == [list(INSPECTOR[:2]), list(OTHER_INSPECTOR[:2])]
    assert seen == [""]
