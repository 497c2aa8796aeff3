"""Users and roles, the lead loop, and the hash-chained audit trail (tampered in the file)."""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import sqlite3
from datetime import date, datetime, timedelta

import pytest

from core import inspections as svc
from core import leads
from core.audit import record_history, verify_chain
from core.errors import InvalidInput, WorkflowError
from core.printing import print_form
from core.subjects import SubjectData, add_subject
from core.tasks import list_tasks
from core.users import LoginFailed, PermissionDenied, add_user, check_password, hash_password, log_in
from core.workdays import add_working_days
from tests.integration.helpers import officer_passwords, signed_inspection

PASSWORD = "correct horse"


@pytest.fixture
def people(ctx):
    admin = add_user(ctx, name="张所长", role="admin", password=PASSWORD)
    inspector = add_user(ctx, name="王建国", role="inspector", password=PASSWORD, cert_no="41170021001")
    other = add_user(ctx, name="李秀英", role="inspector", password=PASSWORD, cert_no="41170021002")
    grid = add_user(ctx, name="马红", role="grid_worker", password=PASSWORD, grid="西园社区")
    return {"admin": admin, "inspector": inspector, "other": other, "grid": grid}


def test_password_hash_is_salted_scrypt():
    a, b = hash_password("secret1"), hash_password("secret1")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert check_password("secret1", a) and not check_password("secret2", a)


def test_log_in_and_lock_out(ctx, people):
    user = log_in(ctx, "王建国", PASSWORD)
    assert ctx.user == user and user.role == "inspector"
    ctx.user = None
    for attempt in range(4):
        with pytest.raises(LoginFailed, match="^用户名或密码错误$"):
            log_in(ctx, "王建国", "wrong")
    with pytest.raises(LoginFailed, match="锁定"):
        log_in(ctx, "王建国", "wrong")
    with pytest.raises(LoginFailed, match="锁定"):
        log_in(ctx, "王建国", PASSWORD)  # even the right password, while locked
    later = ctx.clock() + timedelta(minutes=16)
    ctx.clock = lambda: later
    assert log_in(ctx, "王建国", PASSWORD).name == "王建国"


def test_unknown_user_and_listed_inspector_without_password_cannot_log_in(ctx, people):
    from core.inspectors import add_inspector

    add_inspector(ctx, "赵敏", "41170021006")
    for name in ("无此人", "赵敏"):
        with pytest.raises(LoginFailed, match="用户名或密码错误"):
            log_in(ctx, name, PASSWORD)


def test_roles_need_their_details(ctx, people):
    ctx.user = None
    with pytest.raises(InvalidInput, match="执法证号"):
        add_user(ctx, name="甲", role="inspector", password=PASSWORD)
    with pytest.raises(InvalidInput, match="网格"):
        add_user(ctx, name="乙", role="grid_worker", password=PASSWORD)
    with pytest.raises(InvalidInput, match="至少"):
        add_user(ctx, name="丙", role="admin", password="123")


def test_grid_worker_is_refused_enforcement_actions_by_the_services(ctx, people, subject, officers, tmp_path):
    """Asked directly, the core refuses: not only hidden buttons."""
    signed = signed_inspection(ctx, subject.id, officers)
    draft = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    log_in(ctx, "马红", PASSWORD)
    for call in (
        lambda: svc.start_inspection(ctx, subject.id, "cosmetics-531", officers),
        lambda: svc.set_answer(ctx, draft, "A1", "pass"),
        lambda: svc.sign_inspection(ctx, draft, officer_passwords(ctx, draft)),
        lambda: print_form(ctx, signed, "record", tmp_path / "x.pdf"),
        lambda: add_subject(ctx, SubjectData(name="新店", category="other")),
        lambda: add_user(ctx, name="冒充", role="admin", password=PASSWORD),
        lambda: leads.receive_lead(ctx, "any"),
    ):
        with pytest.raises(PermissionDenied, match="网格员马红无权"):
            call()
    assert not (tmp_path / "x.pdf").exists()


def test_inspector_may_inspect_but_not_manage_leads_or_users(ctx, people, subject, officers):
    log_in(ctx, "王建国", PASSWORD)
    svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    with pytest.raises(PermissionDenied):
        add_user(ctx, name="新人", role="grid_worker", password=PASSWORD, grid="x")
    with pytest.raises(PermissionDenied):
        leads.receive_lead(ctx, "any")


def _report(ctx, people, **kw):
    ctx.user = people["grid"]
    lead_id = leads.report_lead(ctx, category="expired_in_use", description="过期药品仍在使用", **kw)
    ctx.user = None
    return lead_id


def test_the_whole_lead_loop_into_a_task(ctx, people, subject, tmp_path):
    from PIL import Image

    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (64, 48), (90, 90, 90)).save(photo)
    ctx.user = people["grid"]
    lead_id = leads.report_lead(ctx, category="cosmetics_violation", description="货架上有自制面霜",
                                subject_id=subject.id, place="店内", photos=[photo])
    assert leads.get_lead(ctx, lead_id).photos[0].is_file()
    ctx.user = people["admin"]
    leads.receive_lead(ctx, lead_id)
    received = leads.get_lead(ctx, lead_id)
    assert received.due == add_working_days(ctx.clock().date(), 15).due
    leads.assign_lead(ctx, lead_id, people["inspector"].id)
    ctx.user = people["other"]
    with pytest.raises(PermissionDenied, match="承办人"):
        leads.handle_lead(ctx, lead_id, "event")
    ctx.user = people["inspector"]
    event_id = leads.handle_lead(ctx, lead_id, "event", "转任务核查")
    assert event_id
    [task] = list_tasks(ctx, subject_id=subject.id)
    assert "网格员巡查发现" in task.reasons[0] and "自制面霜" in task.reasons[0]
    # the inspector who checked the lead is the task's officer
    assert [(o.name, o.cert_no) for o in task.officers] == [(people["inspector"].name, people["inspector"].cert_no)]
    leads.feed_back(ctx, lead_id, "已安排执法人员检查，感谢您的报告")
    ctx.user = people["admin"]
    leads.close_lead(ctx, lead_id)
    ctx.user = people["grid"]
    [mine] = leads.list_leads(ctx)
    assert mine.status == "closed" and mine.feedback.startswith("已安排")
    assert [step for step, _at, _who in mine.steps] == ["上报", "接收", "分办", "处置", "反馈", "办结"]


def test_unfounded_needs_a_reason_and_wrong_order_is_refused(ctx, people):
    lead_id = _report(ctx, people, party_name="流动摊贩", party_address="集市")
    with pytest.raises(WorkflowError, match="已上报"):
        leads.handle_lead(ctx, lead_id, "unfounded", "x")
    leads.receive_lead(ctx, lead_id)
    leads.assign_lead(ctx, lead_id, people["inspector"].id)
    with pytest.raises(InvalidInput, match="核查情况"):
        leads.handle_lead(ctx, lead_id, "unfounded")
    with pytest.raises(WorkflowError, match="未登记的经营者"):
        leads.handle_lead(ctx, lead_id, "event")
    leads.handle_lead(ctx, lead_id, "unfounded", "现场未发现摆摊")
    leads.feed_back(ctx, lead_id, "经核查未发现问题")
    leads.close_lead(ctx, lead_id)
    assert leads.get_lead(ctx, lead_id).handling == "unfounded"


def test_reporter_is_visible_only_to_admin_and_assigned_inspector(ctx, people):
    lead_id = _report(ctx, people, party_name="某摊", party_address="某处")
    leads.receive_lead(ctx, lead_id)
    leads.assign_lead(ctx, lead_id, people["inspector"].id)
    for viewer, sees in (("admin", True), ("inspector", True), ("other", False), ("grid", True)):
        ctx.user = people[viewer]
        assert (leads.get_lead(ctx, lead_id).reporter == "马红") is sees, viewer


def test_overdue_leads_come_first_across_holidays(ctx, people):
    start = datetime(2026, 9, 25, 9, 0)  # a Friday before the National Day holiday
    ctx.clock = lambda: start
    old = _report(ctx, people, party_name="甲", party_address="甲")
    leads.receive_lead(ctx, old)
    # 28, 29, 30 Sep; 8, 9, 10 (Sat, 调休) Oct; 12–16; 19–22: 15 working days over 国庆
    assert leads.get_lead(ctx, old).due == date(2026, 10, 22)
    ctx.clock = lambda: datetime(2026, 10, 26, 9, 0)
    fresh = _report(ctx, people, party_name="乙", party_address="乙")
    leads.receive_lead(ctx, fresh)
    ctx.user = people["admin"]
    rows = leads.list_leads(ctx)
    assert [r.id for r in rows] == [old, fresh] and rows[0].overdue and not rows[1].overdue


def test_audit_records_who_what_before_after(ctx, people, subject, officers):
    log_in(ctx, "王建国", PASSWORD)
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    svc.set_answer(ctx, inspection_id, "A1", "fail")
    svc.set_answer(ctx, inspection_id, "A1", "pass")
    history = record_history(ctx, inspection_id)
    updates = [h for h in history if h.table == "item_results" and h.action == "update"]
    assert updates[-1].before["result"] == "fail" and updates[-1].after["result"] == "pass"
    assert {h.actor for h in history} == {"王建国"}
    assert verify_chain(ctx).ok


def _tamper(ctx, sql, *params):
    raw = rawdb.connect(ctx.engine.url.database)
    raw.execute(sql, params)
    raw.commit()
    raw.close()


def _chain_with_entries(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    for code in ("A1", "A2", "A3"):
        svc.set_answer(ctx, inspection_id, code, "pass")
    check = verify_chain(ctx)
    assert check.ok and check.entries > 10
    return check.entries


def test_audit_detects_an_edited_entry(ctx, subject, officers):
    _chain_with_entries(ctx, subject, officers)
    _tamper(ctx, "UPDATE audit_log SET after_json = replace(after_json, 'pass', 'fail') WHERE seq = "
                 "(SELECT max(seq) FROM audit_log WHERE table_name='item_results')")
    check = verify_chain(ctx)
    assert not check.ok and "改动" in check.message


def test_audit_detects_a_deleted_entry(ctx, subject, officers):
    _chain_with_entries(ctx, subject, officers)
    _tamper(ctx, "DELETE FROM audit_log WHERE seq = 5")
    check = verify_chain(ctx)
    assert not check.ok and check.bad_seq == 6 and "缺失" in check.message


def test_audit_detects_a_swapped_pair(ctx, subject, officers):
    _chain_with_entries(ctx, subject, officers)
    _tamper(ctx, "UPDATE audit_log SET seq = -1 WHERE seq = 7")
    _tamper(ctx, "UPDATE audit_log SET seq = 7 WHERE seq = 8")
    _tamper(ctx, "UPDATE audit_log SET seq = 8 WHERE seq = -1")
    check = verify_chain(ctx)
    assert not check.ok and check.bad_seq == 7
