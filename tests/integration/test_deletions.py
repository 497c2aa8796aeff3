"""The delete services (core/deletions.py): who may delete what, and what is refused."""
from __future__ import annotations

from datetime import date

import pytest
from PIL import Image
from sqlalchemy import func, select

from core import inspections as svc
from core import leads
from core.deletions import delete_subject, delete_task, remove_lead_photo
from core.errors import NotFound, WorkflowError
from core.subjects import SubjectData, add_subject, search_subjects
from core.tasks import list_tasks, record_event, start_task
from core.users import PermissionDenied, add_user
from db.models import AuditEntry, LeadPhoto, SyncTombstone

PASSWORD = "测试口令-123456"


@pytest.fixture
def people(ctx):
    return {"admin": add_user(ctx, name="张所长", role="admin", password=PASSWORD),
            "inspector": add_user(ctx, name="王建国", role="inspector", password=PASSWORD, cert_no="41170021001"),
            "grid": add_user(ctx, name="马红", role="grid_worker", password=PASSWORD, grid="西园社区")}


def _count(ctx, model, **where) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_a_mistaken_subject_is_deleted_with_an_audit_entry(ctx, people, subject):
    mistaken = add_subject(ctx, SubjectData(name="重复录入的店", category="cosmetics_operator"))
    ctx.user = people["grid"]
    with pytest.raises(PermissionDenied):
        delete_subject(ctx, mistaken.id)
    ctx.user = people["inspector"]
    delete_subject(ctx, mistaken.id)
    assert [s.name for s in search_subjects(ctx, "重复录入")] == []
    with ctx.sessions() as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).all()
    assert (entry.table_name, entry.record_id, entry.actor) == ("subjects", mistaken.id, "王建国")
    # never synced: no tombstone to send
    assert _count(ctx, SyncTombstone) == 0
    with pytest.raises(NotFound):
        delete_subject(ctx, mistaken.id)


def test_a_subject_with_records_is_not_deleted(ctx, subject, officers):
    svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    with pytest.raises(WorkflowError, match="关联记录"):
        delete_subject(ctx, subject.id)
    assert [s.id for s in search_subjects(ctx, subject.name)] == [subject.id]


def test_only_a_task_nobody_started_is_deleted(ctx, people, subject, officers):
    record_event(ctx, subject.id, "complaint", date(2026, 11, 20), details="投诉")
    [task] = list_tasks(ctx)
    ctx.user = people["grid"]
    with pytest.raises(PermissionDenied):
        delete_task(ctx, task.id)
    ctx.user = None
    start_task(ctx, task.id, officers)
    with pytest.raises(WorkflowError, match="撤销"):
        delete_task(ctx, task.id)
    assert len(list_tasks(ctx)) == 1


def test_lead_photo_removed_by_its_reporter_while_open(ctx, people, tmp_path):
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (64, 48), (90, 90, 90)).save(photo)
    ctx.user = people["grid"]
    lead_id = leads.report_lead(ctx, category="cosmetics_violation", description="货架上有自制面霜",
                               party_name="无名小店", photos=[photo, photo])
    with ctx.sessions() as s:
        ids = s.scalars(select(LeadPhoto.id).where(LeadPhoto.lead_id == lead_id)).all()
    assert len(ids) == 2
    ctx.user = people["inspector"]  # neither the reporter nor managing leads
    with pytest.raises(PermissionDenied):
        remove_lead_photo(ctx, ids[0])
    ctx.user = people["grid"]
    remove_lead_photo(ctx, ids[0])
    assert _count(ctx, LeadPhoto, lead_id=lead_id) == 1
    ctx.user = people["admin"]
    leads.receive_lead(ctx, lead_id)
    remove_lead_photo(ctx, ids[1])  # whoever manages leads, while it is open
    assert _count(ctx, LeadPhoto, lead_id=lead_id) == 0
