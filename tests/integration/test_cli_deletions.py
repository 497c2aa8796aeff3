"""The delete services from the command line, run as a user would (``python main.py …``): nothing is
deleted without ``--yes``, a refusal is one Chinese line and exit 2, and a signed record keeps its photo."""
from __future__ import annotations

from datetime import date

from PIL import Image

from core import inspections as svc
from core import leads
from core.subjects import SubjectData, add_subject, search_subjects
from core.tasks import list_tasks, record_event
from core.users import add_user
from tests.integration.helpers import answer_all, sign_all
from tests.integration.test_cli import run


def test_subjects_and_tasks_deleted_only_when_confirmed_and_allowed(ctx, subject, officers):
    db = str(ctx.engine.url.database)
    mistaken = add_subject(ctx, SubjectData(name="重复录入的店", category="cosmetics_operator"))
    record_event(ctx, mistaken.id, "complaint", date(2026, 11, 20), details="投诉")
    svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)  # the real one has a record
    [task] = list_tasks(ctx)

    unconfirmed = run("tasks", "delete", "--db", db, "--task", task.id)
    assert unconfirmed.returncode == 2 and "重复录入的店" in unconfirmed.stderr and "--yes" in unconfirmed.stderr
    assert len(list_tasks(ctx)) == 1
    # the subject still has its task: refused, one line, nothing changed
    refused = run("subjects", "delete", "--db", db, "--subject", mistaken.id, "--yes")
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith("错误：") and "关联记录" in refused.stderr and refused.stderr.count("\n") == 1
    deleted = run("tasks", "delete", "--db", db, "--task", task.id, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert "已删除" in deleted.stdout and list_tasks(ctx) == []

    assert run("subjects", "delete", "--db", db, "--subject", mistaken.id).returncode == 2  # no --yes
    assert [s.id for s in search_subjects(ctx, "重复录入")] == [mistaken.id]
    gone = run("subjects", "delete", "--db", db, "--subject", mistaken.id, "--yes")
    assert gone.returncode == 0, gone.stderr
    assert search_subjects(ctx, "重复录入") == []
    # by its credit code; it has an inspection: refused
    kept = run("subjects", "delete", "--db", db, "--subject", subject.credit_code, "--yes")
    assert kept.returncode == 2 and "关联记录" in kept.stderr
    unknown = run("subjects", "delete", "--db", db, "--subject", "没有这个", "--yes")
    assert unknown.returncode == 2 and "找不到监管对象" in unknown.stderr


def test_photos_of_a_signed_record_and_of_a_lead(ctx, subject, officers, tmp_path):
    db = str(ctx.engine.url.database)
    picture = tmp_path / "现场.jpg"
    Image.new("RGB", (64, 48), (90, 90, 90)).save(picture)
    draft = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    photo = svc.add_photo(ctx, draft, "B2", picture)
    signed = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    evidence = svc.add_photo(ctx, signed, "B2", picture)
    answer_all(ctx, signed, {"B2": "1批次无备案信息"})
    svc.update_details(ctx, signed, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(ctx, signed)
    sign_all(ctx, signed)
    locked = svc.load_inspection(ctx, signed)
    assert locked.status == "signed" and [p.id for p in locked.photos] == [evidence.id]
    refused = run("inspections", "remove-photo", "--db", db, "--inspection", locked.number,
                  "--photo", evidence.id, "--yes")
    assert refused.returncode == 2 and "已签名锁定" in refused.stderr, refused.stderr
    assert [p.id for p in svc.load_inspection(ctx, signed).photos] == [evidence.id]
    removed = run("inspections", "remove-photo", "--db", db, "--inspection", draft, "--photo", photo.id, "--yes")
    assert removed.returncode == 0, removed.stderr
    assert svc.load_inspection(ctx, draft).photos == []

    ctx.user = add_user(ctx, name="马红", role="grid_worker", password="测试口令-123456", grid="西园社区")
    lead_id = leads.report_lead(ctx, category="cosmetics_violation", description="货架上有自制面霜",
                                party_name="无名小店", photos=[picture])
    ctx.user = None  # the command line acts as the system
    [lead] = [r for r in leads.list_leads(ctx) if r.id == lead_id]
    assert len(lead.photo_ids) == 1
    assert run("leads", "remove-photo", "--db", db, "--photo", lead.photo_ids[0]).returncode == 2
    done = run("leads", "remove-photo", "--db", db, "--photo", lead.photo_ids[0], "--yes")
    assert done.returncode == 0, done.stderr
    [lead] = [r for r in leads.list_leads(ctx) if r.id == lead_id]
    assert lead.photo_ids == ()
