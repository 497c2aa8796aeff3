"""删除 where a user looks for it: the subject page, the task queue and a lead's photos — each asks
first, naming what goes (and that it goes from the laptops too), and a refusal changes nothing."""
from __future__ import annotations

from datetime import date

from PIL import Image
from PySide6.QtWidgets import QMessageBox

from core import inspections as svc
from core import leads
from core.subjects import SubjectData, add_subject, search_subjects
from core.tasks import list_tasks, record_event, start_task
from core.users import add_user
from gui.jobs import ImmediateRunner
from gui.leads_view import LeadInbox
from gui.models import ROW_ROLE
from gui.photo_viewer import PhotoViewer
from gui.subject_page import SubjectPage
from gui.task_queue import TaskQueue
from tests.gui.helpers import LEFT, click_row

YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


def _page(qtbot, ctx, subject_id) -> SubjectPage:
    page = SubjectPage(ctx, subject_id, open_inspection=lambda _id: None)
    qtbot.addWidget(page)
    page.show()
    return page


def test_the_subject_page_deletes_a_mistaken_subject_and_keeps_one_with_records(
        qtbot, ctx, subject, officers, message_boxes):
    mistaken = add_subject(ctx, SubjectData(name="重复录入的店", category="cosmetics_operator"))
    page = _page(qtbot, ctx, mistaken.id)
    message_boxes.answer = NO
    qtbot.mouseClick(page.delete_button, LEFT)
    assert [s.id for s in search_subjects(ctx, "重复录入")] == [mistaken.id]
    [question] = message_boxes.texts("question")
    assert "重复录入的店" in question and "各笔记本" in question
    message_boxes.answer = YES
    with qtbot.waitSignal(page.changed):
        qtbot.mouseClick(page.delete_button, LEFT)
    assert search_subjects(ctx, "重复录入") == [] and not page.isVisible()

    svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    kept = _page(qtbot, ctx, subject.id)
    qtbot.mouseClick(kept.delete_button, LEFT)
    [refusal] = message_boxes.texts("warning")
    assert "关联记录" in refusal and kept.isVisible()
    assert [s.id for s in search_subjects(ctx, subject.name)] == [subject.id]


def test_the_task_queue_deletes_a_task_nobody_started(qtbot, ctx, subject, officers, message_boxes):
    other = add_subject(ctx, SubjectData(name="乙化妆品店", category="cosmetics_operator"))
    for s in (subject, other):
        record_event(ctx, s.id, "complaint", date(2026, 11, 20), details="投诉")
    started = next(t for t in list_tasks(ctx) if t.subject_id == subject.id)
    start_task(ctx, started.id, officers)
    queue = TaskQueue(ctx, runner=ImmediateRunner(), open_inspection=lambda _id: None)
    qtbot.addWidget(queue)
    queue.show()
    assert queue.proxy.rowCount() == 2 and not queue.station.isVisible()  # a station's own database
    message_boxes.answer = YES
    rows = [queue.proxy.index(r, 0).data(ROW_ROLE) for r in range(2)]
    row_of = {r.subject_name: i for i, r in enumerate(rows)}
    click_row(qtbot, queue.view, row_of[subject.name])
    qtbot.mouseClick(queue.delete_button, LEFT)
    assert "撤销" in message_boxes.texts("warning")[0] and len(list_tasks(ctx)) == 2
    click_row(qtbot, queue.view, row_of["乙化妆品店"])
    qtbot.mouseClick(queue.delete_button, LEFT)
    assert "乙化妆品店" in message_boxes.texts("question")[-1]
    assert [t.subject_name for t in list_tasks(ctx)] == [subject.name] and queue.proxy.rowCount() == 1


def test_a_photo_of_an_open_lead_is_deleted_in_the_viewer(qtbot, ctx, tmp_path, message_boxes):
    picture = tmp_path / "现场.jpg"
    Image.new("RGB", (64, 48), (90, 90, 90)).save(picture)
    ctx.user = add_user(ctx, name="马红", role="grid_worker", password="测试口令-123456", grid="西园社区")
    lead_id = leads.report_lead(ctx, category="cosmetics_violation", description="货架上有自制面霜",
                                party_name="无名小店", photos=[picture, picture])
    ctx.user = None  # the station's inbox
    inbox = LeadInbox(ctx)
    qtbot.addWidget(inbox)
    inbox.show()
    click_row(qtbot, inbox.view, 0)
    qtbot.mouseClick(inbox.photos_button, LEFT)
    [viewer] = inbox.findChildren(PhotoViewer)
    assert len(viewer.remove_buttons) == 2
    message_boxes.answer = YES
    qtbot.mouseClick(viewer.remove_buttons[0], LEFT)
    assert "各笔记本" in message_boxes.texts("question")[0]
    [lead] = [r for r in leads.list_leads(ctx) if r.id == lead_id]
    assert len(lead.photo_ids) == 1
