"""用户管理 and 注销 through the real widgets: add a user and log in as them, reset and unlock,
deactivate (cannot log in, records stay), log out and in as another role; an inspector gets none of it."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from core.users import MAX_FAILURES, LoginFailed, PermissionDenied, add_user, log_in
from gui.app import Session
from gui.leads_view import GridWorkerWindow
from gui.login_dialog import LoginDialog
from gui.main_window import MainWindow
from gui.users_dialog import PasswordForm, UserForm, UsersDialog
from tests.gui.helpers import LEFT, click_row, open_main_window

PASSWORD = "station-pass-1"
SAVE = QDialogButtonBox.StandardButton.Save


@pytest.fixture
def station(ctx):
    add_user(ctx, name="张所长", role="admin", password=PASSWORD)
    add_user(ctx, name="王建国", role="inspector", password=PASSWORD, cert_no="41170021001")
    return ctx


def typed_log_ins(monkeypatch, qtbot, type_text, credentials: list[tuple[str, str]], seen: list[str]):
    """LoginDialog.exec: type each (name, password) in turn into the real dialog and press 登录."""
    def fake_exec(dialog: LoginDialog) -> int:
        dialog.show()
        while credentials:
            name, password = credentials.pop(0)
            dialog.name.clear()
            type_text(dialog.name, name)
            qtbot.keyClicks(dialog.password, password)
            qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok), LEFT)
            if dialog.result():
                seen.append("登录成功")
                return 1
            seen.append(dialog.message.text())
        return 0

    monkeypatch.setattr(LoginDialog, "exec", fake_exec)


def user_states(dialog: UsersDialog) -> dict[str, str]:
    model = dialog.model
    return {model.index(r, 0).data(): model.index(r, 4).data() for r in range(model.rowCount())}


def row_of(dialog: UsersDialog, name: str) -> int:
    return next(r for r in range(dialog.model.rowCount()) if dialog.model.row_at(r).name == name)


def open_users(qtbot, ctx) -> UsersDialog:
    dialog = UsersDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_admin_adds_a_grid_worker_who_logs_in_after_a_log_out(station, qtbot, monkeypatch, type_text):
    seen: list[str] = []
    credentials = [("张所长", PASSWORD)]
    typed_log_ins(monkeypatch, qtbot, type_text, credentials, seen)
    session = Session(station)
    assert session.log_in()
    window = session.window
    qtbot.addWidget(window)
    assert isinstance(window, MainWindow) and window.users_action.isVisible()

    def fill_new_user(form: UserForm) -> int:
        form.show()
        type_text(form.name, "赵敏")
        form.role.setCurrentIndex(form.role.findData("grid_worker"))
        assert form.grid.placeholderText() == "网格员必填"
        qtbot.mouseClick(form.buttons.button(SAVE), LEFT)
        assert form.message.text() == "网格员必须填写所在网格"  # one clear line, nothing saved
        type_text(form.grid, "西园社区")
        qtbot.keyClicks(form.password, "grid-pass-1")
        qtbot.keyClicks(form.repeat, "grid-pass-2")
        qtbot.mouseClick(form.buttons.button(SAVE), LEFT)
        assert form.message.text() == "两次输入的密码不一致"
        form.repeat.clear()
        qtbot.keyClicks(form.repeat, "grid-pass-1")
        qtbot.mouseClick(form.buttons.button(SAVE), LEFT)
        return form.result()

    def use_dialog(dialog: UsersDialog) -> int:
        dialog.show()
        assert set(user_states(dialog)) == {"张所长", "王建国"}
        qtbot.mouseClick(dialog.add_button, LEFT)
        assert user_states(dialog)["赵敏"] == "正常"
        assert dialog.status.text() == "已添加网格员 赵敏"
        assert dialog.current().name == "赵敏" and dialog.current().grid == "西园社区"
        return 0

    monkeypatch.setattr(UserForm, "exec", fill_new_user)
    monkeypatch.setattr(UsersDialog, "exec", use_dialog)
    window.users_action.trigger()

    # 注销, then the new grid worker logs in (a wrong password first): her own window, no restart
    credentials.extend([("赵敏", "not-hers-1"), ("赵敏", "grid-pass-1")])
    window.log_out_action.trigger()
    assert seen[-2:] == ["用户名或密码错误", "登录成功"]
    assert isinstance(session.window, GridWorkerWindow) and session.window.isVisible()
    assert station.user.name == "赵敏" and station.user.role == "grid_worker"
    qtbot.addWidget(session.window)
    assert not window.isVisible()

    # and back to the admin through the grid worker's own 注销 button
    credentials.append(("张所长", PASSWORD))
    grid_window = session.window
    qtbot.mouseClick(grid_window.log_out_button, LEFT)
    assert isinstance(session.window, MainWindow) and station.user.name == "张所长"
    qtbot.addWidget(session.window)


def test_log_out_then_cancel_quits(station, qtbot, monkeypatch, type_text):
    from PySide6.QtWidgets import QApplication

    typed_log_ins(monkeypatch, qtbot, type_text, [("张所长", PASSWORD)], [])
    session = Session(station)
    assert session.log_in()
    qtbot.addWidget(session.window)
    quits = []
    monkeypatch.setattr(QApplication, "quit", lambda *_: quits.append(True))
    session.window.log_out_action.trigger()  # no more credentials: the user presses 退出
    assert session.window is None and station.user is None and quits == [True]


def test_resetting_a_password_and_unlocking(station, qtbot, monkeypatch, type_text):
    for _ in range(MAX_FAILURES):
        with pytest.raises(LoginFailed):
            log_in(station, "王建国", "forgotten-1")
    log_in(station, "张所长", PASSWORD)
    dialog = open_users(qtbot, station)
    assert user_states(dialog)["王建国"] == "已锁定"
    click_row(qtbot, dialog.view, row_of(dialog, "张所长"))
    assert not dialog.unlock_button.isEnabled()  # nothing to unlock
    click_row(qtbot, dialog.view, row_of(dialog, "王建国"))
    assert dialog.unlock_button.isEnabled()
    qtbot.mouseClick(dialog.unlock_button, LEFT)
    assert user_states(dialog)["王建国"] == "正常" and dialog.status.text() == "已解除 王建国 的锁定，可以重新登录"

    def new_password(form: PasswordForm) -> int:
        form.show()
        qtbot.keyClicks(form.password, "abc")
        qtbot.keyClicks(form.repeat, "abc")
        qtbot.mouseClick(form.buttons.button(SAVE), LEFT)
        assert form.message.text() == "密码至少 6 位"
        for field in (form.password, form.repeat):
            field.clear()
            qtbot.keyClicks(field, "new-secret-9")
        qtbot.mouseClick(form.buttons.button(SAVE), LEFT)
        return form.result()

    monkeypatch.setattr(PasswordForm, "exec", new_password)
    assert dialog.key_state.text().startswith("签名密钥：有效，指纹 ")
    assert "已停用的旧密钥" not in dialog.key_state.text()
    qtbot.mouseClick(dialog.password_button, LEFT)
    # an officer's reset makes a new signing key; the old one is kept, revoked, for the records it signed
    assert dialog.status.text() == "已为 王建国 设置新密码，并生成了新的签名密钥"
    assert dialog.key_state.text().endswith("；已停用的旧密钥 1 把（其签名的记录仍然有效）")
    with pytest.raises(LoginFailed):
        log_in(station, "王建国", PASSWORD)
    assert log_in(station, "王建国", "new-secret-9").name == "王建国"


def test_deactivating_keeps_the_records_and_stops_the_log_in(demo_ctx, qtbot, monkeypatch, type_text, message_boxes):
    from core.demo import DEMO_ADMIN, DEMO_PASSWORD, OFFICERS
    from core.inspections import list_inspections

    log_in(demo_ctx, DEMO_ADMIN, DEMO_PASSWORD)
    before = [(r.number, r.status) for r in list_inspections(demo_ctx)]
    dialog = open_users(qtbot, demo_ctx)
    name = OFFICERS[0].name
    click_row(qtbot, dialog.view, row_of(dialog, name))
    assert dialog.active_button.text() == "停用(&D)"
    message_boxes.answer = QMessageBox.StandardButton.Yes
    qtbot.mouseClick(dialog.active_button, LEFT)
    assert "其检查记录和线索保留不变" in message_boxes.texts("question")[-1]
    assert user_states(dialog)[name] == "已停用" and dialog.active_button.text() == "重新启用(&D)"
    assert len(before) >= 3 and [(r.number, r.status) for r in list_inspections(demo_ctx)] == before
    # the own account cannot be deactivated: refused with one line, nothing changed
    click_row(qtbot, dialog.view, row_of(dialog, DEMO_ADMIN))
    qtbot.mouseClick(dialog.active_button, LEFT)
    assert message_boxes.texts("warning")[-1] == "不能停用自己正在使用的账户"
    assert user_states(dialog)[DEMO_ADMIN] == "正常"

    seen: list[str] = []
    typed_log_ins(monkeypatch, qtbot, type_text, [(name, DEMO_PASSWORD)], seen)
    login = LoginDialog(demo_ctx)
    qtbot.addWidget(login)
    assert login.exec() == 0 and seen == ["用户名或密码错误"]

    log_in(demo_ctx, DEMO_ADMIN, DEMO_PASSWORD)
    click_row(qtbot, dialog.view, row_of(dialog, name))
    qtbot.mouseClick(dialog.active_button, LEFT)  # 重新启用: no question
    assert user_states(dialog)[name] == "正常"
    assert log_in(demo_ctx, name, DEMO_PASSWORD).name == name


def test_an_inspector_gets_no_user_management(station, qtbot):
    log_in(station, "王建国", PASSWORD)
    window = open_main_window(qtbot, station)
    assert not window.users_action.isVisible() and window.log_out_action.isVisible()
    with pytest.raises(PermissionDenied, match="执法人员王建国无权管理用户"):
        UsersDialog(station)  # the core refuses even if the screen were reached
