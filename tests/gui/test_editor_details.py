"""The inspection editor's smaller things: 其余全部符合, what 签名锁定 still needs, sign buttons that stay put."""
from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QPushButton

from core import inspections as svc
from tests.gui.helpers import LEFT
from tests.gui.helpers import open_editor


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGBA", (300, 100), (0, 0, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def test_the_rest_all_pass_in_one_click(ctx, subject, officers, qtbot):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    editor = open_editor(qtbot, ctx, inspection_id)
    qtbot.mouseClick(editor.rows["A1"].buttons["fail"], LEFT)
    qtbot.mouseClick(editor.rows["A2"].buttons["na"], LEFT)
    total = len(editor.record.template.items)
    assert total > 30 and len(editor.record.unanswered()) == total - 2
    assert editor.remaining_button.isEnabled()
    qtbot.mouseClick(editor.remaining_button, LEFT)
    record = svc.load_inspection(ctx, inspection_id)
    assert record.unanswered() == []
    assert record.answer("A1").result == "fail" and record.answer("A2").result == "na"
    passed = [i.code for i in record.template.items if record.answer(i.code).result == "pass"]
    assert len(passed) == total - 2
    assert editor.rows["B1"].buttons["pass"].isChecked()
    assert not editor.remaining_button.isEnabled()  # nothing left to answer


def test_sign_says_what_is_missing_before_asking(ctx, subject, officers, qtbot, message_boxes):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    from core.inspections.drafts import answer_remaining

    answer_remaining(ctx, inspection_id)
    svc.complete_inspection(ctx, inspection_id)
    editor = open_editor(qtbot, ctx, inspection_id)
    assert editor.sign_button.isEnabled()
    qtbot.mouseClick(editor.sign_button, LEFT)
    assert message_boxes.shown == []  # no 确定吗 while signatures are missing
    assert editor.message.text().startswith("还不能签名锁定：") and "签名" in editor.message.text()
    assert svc.load_inspection(ctx, inspection_id).status == "completed"


def test_sign_buttons_stay_where_they_are_after_a_signature(ctx, subject, officers, qtbot):
    from core.inspections.drafts import answer_remaining

    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_remaining(ctx, inspection_id)
    svc.complete_inspection(ctx, inspection_id)
    editor = open_editor(qtbot, ctx, inspection_id)
    editor.tabs.setCurrentIndex(1)
    qtbot.wait(20)
    roles = svc.signature_roles(editor.record)
    assert len(roles) >= 3

    def positions():
        found = []
        for role in roles:
            point = editor.findChild(QPushButton, f"sign-{role}").mapTo(editor, QPoint(0, 0))
            found.append((point.x(), point.y()))
        return found

    before = positions()
    svc.add_signature(ctx, inspection_id, roles[0], "张三", _png())
    editor.reload()
    qtbot.wait(20)
    assert positions() == before
