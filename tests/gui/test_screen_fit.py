"""Every top-level window and dialog, opened on a 1366×768 screen, keeps itself and its buttons on the screen."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QTabBar, QToolBar, QWidget

from core.inspections import list_inspections, load_inspection
from core.printing import render_form
from core.subjects import search_subjects
from core.verification import make_payload
from gui.jobs import ImmediateRunner
from gui.windows import FRAME_HEIGHT

SCREEN = QRect(0, 0, 1366, 768)


def _signed(ctx):
    return load_inspection(ctx, next(s.id for s in list_inspections(ctx) if s.status == "signed"))


def _subject(ctx):
    return search_subjects(ctx, "")[0]


def _main(ctx):
    from gui.main_window import MainWindow

    return MainWindow(ctx, runner=ImmediateRunner())


def _subject_page(ctx):
    from gui.subject_page import SubjectPage

    return SubjectPage(ctx, _subject(ctx).id, open_inspection=lambda _id: None)


def _editor(ctx):
    from gui.inspection_editor import InspectionEditor

    draft = next(s for s in list_inspections(ctx) if s.status == "draft")
    return InspectionEditor(ctx, draft.id, runner=ImmediateRunner())


def _preview(ctx):
    from gui.print_preview import PrintPreviewDialog

    record = _signed(ctx)
    return PrintPreviewDialog(render_form(ctx, record, "record"), "现场检查笔录", "a.pdf")


def _verify(ctx):
    from gui.verify_dialog import VerifyDialog

    dialog = VerifyDialog(ctx)
    dialog.payload.setText(make_payload(_signed(ctx), "record"))
    dialog.check()  # the verdict is several lines: the dialog must still fit
    return dialog


def _history(ctx):
    from gui.history_dialog import HistoryDialog

    record = _signed(ctx)
    return HistoryDialog(ctx, record.id, record.number)


def _subject_dialog(ctx):
    from gui.subject_dialog import SubjectDialog

    return SubjectDialog(ctx, _subject(ctx))


def _new_inspection(ctx):
    from gui.new_inspection_dialog import NewInspectionDialog

    return NewInspectionDialog(ctx, _subject(ctx))


def _plan(ctx):
    from gui.plan_dialog import PlanDialog

    return PlanDialog(ctx)


def _grade(ctx):
    from gui.oversight_dialogs import GradeDialog

    return GradeDialog(ctx, _subject(ctx).id, None)


def _event(ctx):
    from gui.oversight_dialogs import EventDialog

    return EventDialog(ctx, _subject(ctx).id)


def _sync(ctx):
    from gui.sync_panel import SyncPanel

    return SyncPanel(ctx, runner=ImmediateRunner())


def _settings(ctx):
    from gui.settings_dialog import SettingsDialog

    return SettingsDialog(ctx)


def _login(ctx):
    from gui.login_dialog import LoginDialog

    return LoginDialog(ctx)


def _grid_worker(ctx):
    from core.demo import DEMO_GRID_WORKER, DEMO_PASSWORD
    from core.users import log_in
    from gui.leads_view import GridWorkerWindow

    log_in(ctx, DEMO_GRID_WORKER[0], DEMO_PASSWORD)
    return GridWorkerWindow(ctx)


def _signature(ctx):
    from gui.signature_pad import SignatureDialog

    return SignatureDialog("当事人签名", "张三")


def _import(ctx, tmp_path):
    from core.register_import import preview_import
    from gui.import_dialog import RegisterImportDialog
    from tests.support.registers import write_station_register

    path = write_station_register(tmp_path / "名册.xlsx")
    return RegisterImportDialog(ctx, path, preview_import(ctx, path), runner=ImmediateRunner(), after=lambda: None)


def _case_papers(ctx):
    from gui.case_papers import CasePapersDialog

    return CasePapersDialog(ctx, _signed(ctx).id, runner=ImmediateRunner())


def _evidence_hold(ctx):
    from gui.evidence_dialogs import EvidenceHoldDialog

    return EvidenceHoldDialog(ctx, _signed(ctx))


WINDOWS = [_main, _subject_page, _editor, _preview, _verify, _history, _subject_dialog, _new_inspection, _plan,
           _grade, _event, _sync, _settings, _login, _grid_worker, _signature, _import,
           _case_papers, _evidence_hold]


def _own_buttons(window: QWidget) -> list[QAbstractButton]:
    """The window's visible buttons outside scroll areas and tab bars (those scroll their own content)."""
    found = []
    for button in window.findChildren(QAbstractButton):
        if not button.isVisibleTo(window):
            continue
        ancestor = button.parentWidget()
        inside = False
        while ancestor is not None and ancestor is not window:
            if isinstance(ancestor, (QAbstractScrollArea, QTabBar, QToolBar)):
                inside = True
                break
            ancestor = ancestor.parentWidget()
        if not inside:
            found.append(button)
    return found


def test_the_test_screen_is_a_small_laptop(qapp):
    assert QGuiApplication.primaryScreen().availableGeometry() == SCREEN


@pytest.mark.parametrize("make", WINDOWS, ids=lambda f: f.__name__.strip("_"))
def test_window_and_its_buttons_fit_a_1366x768_screen(make, demo_ctx, qtbot, tmp_path):
    window = make(demo_ctx, tmp_path) if make is _import else make(demo_ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    frame = window.frameGeometry()
    # the window manager's title bar comes on top of what Qt knows offscreen
    assert SCREEN.contains(frame.adjusted(0, 0, 0, FRAME_HEIGHT if frame == window.geometry() else 0)), frame
    buttons = _own_buttons(window)
    if make not in (_main, _grid_worker):  # the windows' actions are in their toolbars and tabs
        assert buttons, "a dialog without buttons?"
    for button in buttons:
        rect = QRect(button.mapToGlobal(button.rect().topLeft()), button.size())
        assert SCREEN.contains(rect), (button.text(), rect)
        assert window.geometry().contains(rect), (button.text(), rect, window.geometry())


def test_the_verify_result_is_not_clipped(demo_ctx, qtbot):
    from PySide6.QtCore import Qt

    from gui.verify_dialog import VerifyDialog

    dialog = VerifyDialog(demo_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.payload.setText(make_payload(_signed(demo_ctx), "record"))
    qtbot.keyClick(dialog.payload, Qt.Key.Key_Return)
    qtbot.wait(50)
    label = dialog.result
    assert label.text().startswith("✔") and len(label.text()) > 20
    assert label.height() >= label.heightForWidth(label.width()), (label.height(), label.heightForWidth(label.width()))
    assert dialog.geometry().contains(QRect(label.mapTo(dialog, label.rect().topLeft()), label.size()).translated(
        dialog.geometry().topLeft()))
