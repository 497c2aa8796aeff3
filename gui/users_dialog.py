"""用户: the admin's list of the station's users — add, edit, reset a password, unlock, deactivate.

Nobody is deleted: a deactivated user cannot log in, and what they did stays theirs. The
permission is checked in ``core.users`` (every call here can be refused); the main window
offers this screen to the admin only.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QLineEdit, QMessageBox, QVBoxLayout

from core.context import AppContext
from core.errors import InvalidInput
from core.officer_keys import keys_of
from core.users import (
    MIN_PASSWORD, ROLES, UserRow, add_user, list_accounts, set_active, set_password, unlock_user, update_user,
)
from gui.i18n import tr_args
from gui.messages import attempt
from gui.models import RowTableModel
from gui.widgets import FormDialog, button_row, dialog_buttons, make_table, push_button


def tr(text: str) -> str:
    return QCoreApplication.translate("models", text)


class UserModel(RowTableModel):
    """Deactivated and locked users are drawn in red."""

    columns = (
        ("姓名（登录名）", lambda u: u.name),
        ("角色", lambda u: tr(u.role_label)),
        ("执法证号", lambda u: u.cert_no),
        ("网格", lambda u: u.grid),
        ("状态", lambda u: tr(u.state_label)),
    )
    marked_by = "needs_attention"


def _password_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class UserForm(FormDialog):
    """Add a user (with a first password) or edit one (name, role, 执法证号, grid)."""

    def __init__(self, ctx: AppContext, user: UserRow | None = None, parent=None):
        super().__init__(self.tr("添加用户") if user is None else self.tr("修改用户"), parent, min_width=460)
        self.ctx, self.user, self.saved = ctx, user, None
        self.name = self.add_row(self.tr("姓名(&N)："), QLineEdit(user.name if user else ""))
        self.role = self.add_row(self.tr("角色(&R)："), QComboBox())
        for code, label in ROLES.items():
            self.role.addItem(self.tr(label), code)
        self.role.setCurrentIndex(self.role.findData(user.role if user else "inspector"))
        self.cert_no = self.add_row(self.tr("执法证号(&C)："), QLineEdit(user.cert_no if user else ""))
        self.grid = self.add_row(self.tr("所在网格(&G)："), QLineEdit(user.grid if user else ""))
        self.password = self.repeat = None
        if user is None:
            self.password = self.add_row(self.tr("初始密码(&P)："), _password_field())
            self.repeat = self.add_row(self.tr("再次输入密码："), _password_field())
        self.role.currentIndexChanged.connect(self._role_changed)
        self._role_changed()
        self.lay_out(note=self.tr("姓名也是登录名。执法人员须填执法证号，网格员须填所在网格。"))

    def _role_changed(self) -> None:
        role = self.role.currentData()
        self.cert_no.setPlaceholderText(self.tr("执法人员必填") if role == "inspector" else "")
        self.grid.setPlaceholderText(self.tr("网格员必填") if role == "grid_worker" else "")

    def apply(self) -> None:
        fields = {"name": self.name.text(), "role": self.role.currentData(), "cert_no": self.cert_no.text(),
                  "grid": self.grid.text()}
        if self.user is not None:
            self.saved = update_user(self.ctx, self.user.id, **fields)
            return
        if self.password.text() != self.repeat.text():
            raise InvalidInput(self.tr("两次输入的密码不一致"))
        self.saved = add_user(self.ctx, password=self.password.text(), **fields)


class PasswordForm(FormDialog):
    """A new password for a user who forgot theirs; it also lifts a lock."""

    def __init__(self, ctx: AppContext, user: UserRow, parent=None):
        super().__init__(tr_args(self.tr("重设密码 — %1"), user.name), parent, min_width=420)
        self.ctx, self.user = ctx, user
        self.password = self.add_row(self.tr("新密码(&P)："), _password_field())
        self.repeat = self.add_row(self.tr("再次输入："), _password_field())
        note = tr_args(self.tr("至少 %1 位。请当面告诉本人，并请其登录后自行修改。"), MIN_PASSWORD)
        if user.role == "inspector":
            note += self.tr("执法人员重设密码后生成新的签名密钥，原密钥停用；此前签名的记录仍然有效。")
        self.lay_out(note=note)

    def apply(self) -> None:
        if self.password.text() != self.repeat.text():
            raise InvalidInput(self.tr("两次输入的密码不一致"))
        set_password(self.ctx, self.user.id, self.password.text())


class UsersDialog(QDialog):
    """The station's users and what the admin does with them."""

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("用户管理"))
        self.resize(820, 480)
        self.model = UserModel(self)
        self.view = make_table(self.model, lambda _row: self.edit_user())
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._chosen())
        self.add_button = push_button(self.tr("添加用户(&A)…"), self.add_user)
        self.edit_button = push_button(self.tr("修改(&E)…"), self.edit_user)
        self.password_button = push_button(self.tr("重设密码(&P)…"), self.reset_password)
        self.unlock_button = push_button(self.tr("解除锁定(&U)"), self.unlock)
        self.active_button = push_button(self.tr("停用(&D)"), self.toggle_active)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.key_state = QLabel()  # the chosen officer's signing key (core.officer_keys)
        self.key_state.setWordWrap(True)
        note = QLabel(self.tr("用户不会被删除：停用后不能登录，其检查记录和线索仍归其本人。"))
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(button_row((self.add_button, self.edit_button, self.password_button, self.unlock_button,
                                     self.active_button)))
        layout.addWidget(self.key_state)
        layout.addWidget(self.status)
        layout.addWidget(note)
        layout.addWidget(dialog_buttons(self, None))
        self.refresh()

    def refresh(self, keep: str | None = None) -> None:
        current = keep or (self.current().id if self.current() is not None else None)
        rows = list_accounts(self.ctx)
        self.model.set_rows(rows)
        index = next((i for i, u in enumerate(rows) if u.id == current), 0 if rows else None)
        if index is not None:
            self.view.selectRow(index)
        self._chosen()

    def current(self) -> UserRow | None:
        index = self.view.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def _chosen(self) -> None:
        user = self.current()
        for button in (self.edit_button, self.password_button, self.active_button):
            button.setEnabled(user is not None)
        self.unlock_button.setEnabled(user is not None and user.locked)
        self.active_button.setText(self.tr("重新启用(&D)") if user is not None and not user.active
                                   else self.tr("停用(&D)"))
        self.key_state.setText(self._key_text(user) if user is not None and user.role == "inspector" else "")

    def _key_text(self, user: UserRow) -> str:
        keys = keys_of(self.ctx, user.id)
        current = next((k for k in keys if k.revoked_at is None), None)
        old = len(keys) - (current is not None)
        if current is None:
            text = self.tr("签名密钥：无（设置密码后生成；没有密钥的执法人员只能手写签名）")
        else:
            text = tr_args(self.tr("签名密钥：有效，指纹 %1，%2 起"), current.fingerprint,
                           current.valid_from.strftime("%Y-%m-%d"))
        if old:
            text += tr_args(self.tr("；已停用的旧密钥 %1 把（其签名的记录仍然有效）"), old)
        return text

    def _done(self, text: str, user_id: str | None) -> None:
        self.status.setText(text)
        self.refresh(user_id)

    def add_user(self) -> None:
        form = UserForm(self.ctx, parent=self)
        if form.exec() and form.saved is not None:
            self._done(tr_args(self.tr("已添加%1 %2"), self.tr(form.saved.role_label), form.saved.name), form.saved.id)

    def edit_user(self) -> None:
        user = self.current()
        if user is None:
            return
        form = UserForm(self.ctx, user, parent=self)
        if form.exec() and form.saved is not None:
            self._done(tr_args(self.tr("已修改用户 %1"), form.saved.name), user.id)

    def reset_password(self) -> None:
        user = self.current()
        if user is not None and PasswordForm(self.ctx, user, parent=self).exec():
            done = tr_args(self.tr("已为 %1 设置新密码"), user.name)
            if user.role == "inspector":
                done += self.tr("，并生成了新的签名密钥")
            self._done(done, user.id)

    def unlock(self) -> None:
        user = self.current()
        if user is not None and attempt(self, self.tr("未能解除锁定"), unlock_user, self.ctx, user.id):
            self._done(tr_args(self.tr("已解除 %1 的锁定，可以重新登录"), user.name), user.id)

    def toggle_active(self) -> None:
        user = self.current()
        if user is None:
            return
        if user.active:
            question = tr_args(self.tr("停用用户“%1”？停用后不能登录；其检查记录和线索保留不变，以后可以重新启用。"),
                               user.name)
            if QMessageBox.question(self, self.tr("停用用户"), question) != QMessageBox.StandardButton.Yes:
                return
        if attempt(self, self.tr("未能更改用户状态"), set_active, self.ctx, user.id, not user.active):
            self._done(tr_args(self.tr("已停用 %1") if user.active else self.tr("已重新启用 %1"), user.name), user.id)
