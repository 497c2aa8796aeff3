"""The log-in before an encrypted database opens (gui.unlock_dialog), driven through the real widgets."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from core import dbkeys
from core.context import AppContext
from core.users import add_user, log_in
from db import cipher
from gui.unlock_dialog import UnlockDialog, encrypt_after_log_in
from gui.jobs import ImmediateRunner
from tests.gui.helpers import LEFT


@pytest.fixture
def laptop(tmp_path, monkeypatch):
    """An encrypted laptop as in the field: no service key; 王建国 has logged in here once."""
    monkeypatch.delenv(dbkeys.SERVICE_KEY_ENV, raising=False)
    db = tmp_path / "laptop.db"
    ctx = AppContext.open(db, encrypt=True)
    add_user(ctx, name="王建国", role="inspector", password="wang12345", cert_no="41170021001")
    log_in(ctx, "王建国", "wang12345")
    ctx.close()
    cipher.forget(db)
    return db


def _submit(qtbot, dialog: UnlockDialog, type_text, name: str, password: str) -> None:
    dialog.name.clear()
    type_text(dialog.name, name)
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, password)
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok), LEFT)


def test_the_password_opens_the_database_and_logs_in(qtbot, laptop, type_text):
    dialog = UnlockDialog(laptop)
    qtbot.addWidget(dialog)
    dialog.show()
    _submit(qtbot, dialog, type_text, "王建国", "wrong-pass")
    assert dialog.ctx is None and dialog.message.text() == "用户名或密码错误" and dialog.password.text() == ""
    _submit(qtbot, dialog, type_text, "无此人", "wang12345")
    assert dialog.ctx is None and dialog.message.text() == "用户名或密码错误"  # the same answer
    _submit(qtbot, dialog, type_text, "王建国", "wang12345")
    assert dialog.result() == 1 and dialog.ctx is not None and dialog.ctx.user.name == "王建国"
    assert dialog.ctx.encrypted_file == laptop and dialog.ctx.file_key is not None
    dialog.ctx.close()


def test_a_plain_laptop_is_encrypted_at_the_log_in(qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv(dbkeys.SERVICE_KEY_ENV, raising=False)
    db = tmp_path / "old-laptop.db"
    ctx = AppContext.open(db, encrypt=False)
    ctx._write_settings({"sync.role": "device"})
    add_user(ctx, name="王建国", role="inspector", password="wang12345", cert_no="41170021001")
    from core.unlock import needs_encryption

    assert needs_encryption(ctx) and cipher.is_plain(db)
    log_in(ctx, "王建国", "wang12345")
    encrypt_after_log_in(ctx, "王建国", "wang12345", ImmediateRunner())
    assert not cipher.is_plain(db) and ctx.encrypted_file == db and not needs_encryption(ctx)
    assert ctx.setting("sync.role") == "device"  # the same data, reopened on the encrypted file
    ctx.close()
    cipher.forget(db)
    assert dbkeys.user_names(db) == ["王建国"]
