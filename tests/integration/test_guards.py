"""The rules installed on every session (core.guards) and the follow-up event bus (core.events)."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from core import inspections as svc
from core.errors import RecordLocked
from core.events import EventBus, InspectionSigned
from core.subjects import SubjectData, update_subject
from core.tasks import list_tasks, record_event
from db.models import AuditEntry, Inspection, Subject
from tests.integration.helpers import signed_inspection


def _version(ctx, subject_id: str) -> int:
    with ctx.sessions() as s:
        return s.get(Subject, subject_id).version


def test_a_changed_row_moves_its_version_once_per_transaction(ctx, subject):
    assert _version(ctx, subject.id) == 1
    with ctx.transaction() as s:
        row = s.get(Subject, subject.id)
        row.phone = "13900000001"
        s.flush()
        row.address = "驻马店市驿城区另一路2号"
        s.flush()  # a second flush in the same transaction: still one change for sync
    assert _version(ctx, subject.id) == 2
    update_subject(ctx, subject.id, SubjectData(
        name=subject.name, category=subject.category, credit_code=subject.credit_code, legal_rep="李四",
        address=subject.address, phone=subject.phone, grid=subject.grid))
    assert _version(ctx, subject.id) == 3


def test_an_unchanged_row_keeps_its_version_and_an_explicit_version_is_kept(ctx, subject):
    with ctx.transaction() as s:
        row = s.get(Subject, subject.id)
        row.phone = row.phone  # the same value: nothing changed
    assert _version(ctx, subject.id) == 1
    with ctx.transaction() as s:
        row = s.get(Subject, subject.id)
        row.phone, row.version = "13900000002", 7  # as a sync import sets it
    assert _version(ctx, subject.id) == 7


def test_the_lock_and_the_audit_come_from_the_session_factory(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    with pytest.raises(RecordLocked):
        with ctx.transaction() as s:
            s.get(Inspection, inspection_id).findings = "改过"
    with ctx.sessions() as s:
        entries = s.scalar(select(text("count(*)")).select_from(AuditEntry).where(
            AuditEntry.table_name == "inspections", AuditEntry.record_id == inspection_id))
    assert entries >= 2  # created, then changed on the way to signing


def test_signing_publishes_inspection_signed_and_the_task_closes(ctx, subject, officers):
    record_event(ctx, subject.id, "complaint", ctx.clock().date(), details="投诉")
    (task,) = list_tasks(ctx, status="open")
    seen: list[InspectionSigned] = []
    ctx.events.subscribe(InspectionSigned, seen.append)
    from core.tasks import start_task

    inspection_id = start_task(ctx, task.id, officers)
    from tests.integration.helpers import answer_all, sign_all

    answer_all(ctx, inspection_id, {})
    svc.complete_inspection(ctx, inspection_id)
    sign_all(ctx, inspection_id)
    assert len(seen) == 1 and seen[0].inspection.id == inspection_id
    assert [t.status for t in list_tasks(ctx, subject_id=subject.id)] == ["done"]


def test_an_event_handler_that_fails_rolls_the_publisher_back():
    bus = EventBus()
    calls: list[str] = []
    bus.subscribe(str, calls.append)
    bus.subscribe(str, lambda _e: (_ for _ in ()).throw(RuntimeError("no")))
    with pytest.raises(RuntimeError):
        bus.publish("signed")
    assert calls == ["signed"]
    bus.publish(3)  # no handler for int: nothing happens
