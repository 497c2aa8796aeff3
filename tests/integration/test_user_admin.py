"""The admin's user management: list, edit, unlock, deactivate and reactivate; never delete."""
from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.inspections import list_inspections
from core.users import (
    LoginFailed, MAX_FAILURES, PermissionDenied, add_user, list_accounts, list_users, log_in, set_active,
    set_password, unlock_user, update_user,
)
from tests.integration.helpers import signed_inspection

PASSWORD = "correct horse"


@pytest.fixture
def people(ctx):
    admin = add_user(ctx, name="张所长", role="admin", password=PASSWORD)
    inspector = add_user(ctx, name="王建国", role="inspector", password=PASSWORD, cert_no="41170021001")
    grid = add_user(ctx, name="马红", role="grid_worker", password=PASSWORD, grid="西园社区")
    ctx.user = admin
    return {"admin": admin, "inspector": inspector, "grid": grid}


def test_the_admin_lists_everyone_with_their_state(ctx, people):
    rows = {u.name: u for u in list_accounts(ctx)}
    assert set(rows) == {"张所长", "王建国", "马红"}
    assert rows["王建国"].state_label == "正常" and rows["王建国"].cert_no == "41170021001"
    assert rows["马红"].grid == "西园社区" and rows["马红"].role_label == "网格员"


def test_edit_checks_the_same_rules_as_add(ctx, people):
    row = update_user(ctx, people["grid"].id, name="马红霞", role="inspector", cert_no="41170021009", grid="")
    assert (row.name, row.role, row.cert_no) == ("马红霞", "inspector", "41170021009")
    log_in(ctx, "马红霞", PASSWORD)  # the new name is the log-in name
    ctx.user = people["admin"]
    with pytest.raises(InvalidInput, match="执法证号 41170021001 已登记"):
        update_user(ctx, people["grid"].id, name="马红霞", role="inspector", cert_no="41170021001")
    with pytest.raises(InvalidInput, match="必须填写执法证号"):
        update_user(ctx, people["grid"].id, name="马红霞", role="inspector", cert_no=" ")
    with pytest.raises(InvalidInput, match="已存在"):
        update_user(ctx, people["grid"].id, name="王建国", role="inspector", cert_no="41170021009")
    assert {u.name: u.cert_no for u in list_accounts(ctx)}["马红霞"] == "41170021009"  # refused edits changed nothing


def test_the_last_admin_keeps_the_role_and_stays_active(ctx, people):
    with pytest.raises(InvalidInput, match="最后一位管理员"):
        update_user(ctx, people["admin"].id, name="张所长", role="inspector", cert_no="41170021005")
    with pytest.raises(InvalidInput, match="不能停用自己"):
        set_active(ctx, people["admin"].id, False)
    second = add_user(ctx, name="李副所长", role="admin", password=PASSWORD)
    with pytest.raises(InvalidInput, match="不能更改自己正在使用的账户的角色"):
        update_user(ctx, people["admin"].id, name="张所长", role="inspector", cert_no="41170021005")
    ctx.user = second
    set_active(ctx, people["admin"].id, False)  # another admin may
    with pytest.raises(InvalidInput, match="最后一位管理员"):
        update_user(ctx, second.id, name="李副所长", role="grid_worker", grid="东园")


def test_unlock_and_reset_password(ctx, people):
    for _ in range(MAX_FAILURES):
        with pytest.raises(LoginFailed):
            log_in(ctx, "王建国", "wrong-one")
    with pytest.raises(LoginFailed, match="锁定"):
        log_in(ctx, "王建国", PASSWORD)
    ctx.user = people["admin"]
    assert {u.name: u.state_label for u in list_accounts(ctx)}["王建国"] == "已锁定"
    assert unlock_user(ctx, people["inspector"].id).locked is False
    assert log_in(ctx, "王建国", PASSWORD).name == "王建国"
    ctx.user = people["admin"]
    set_password(ctx, people["inspector"].id, "brand-new-1")
    with pytest.raises(LoginFailed, match="用户名或密码错误"):
        log_in(ctx, "王建国", PASSWORD)
    assert log_in(ctx, "王建国", "brand-new-1").name == "王建国"


def test_a_deactivated_user_cannot_log_in_and_keeps_their_records(ctx, people, subject):
    from core.inspections import OfficerData, load_inspection

    officers = [OfficerData("王建国", "41170021001"), OfficerData("李秀英", "41170021002")]
    inspection_id = signed_inspection(ctx, subject.id, officers)
    ctx.user = people["admin"]
    row = set_active(ctx, people["inspector"].id, False)
    assert row.active is False and row.state_label == "已停用"
    with pytest.raises(LoginFailed, match="用户名或密码错误"):
        log_in(ctx, "王建国", PASSWORD)
    ctx.user = people["admin"]
    assert "王建国" not in {u.name for u in list_users(ctx)}  # not offered as an officer any more
    assert "王建国" in {u.name for u in list_accounts(ctx)}  # but never deleted
    assert [r.id for r in list_inspections(ctx)] == [inspection_id]
    assert "王建国" in [o.name for o in load_inspection(ctx, inspection_id).officers]
    set_active(ctx, people["inspector"].id, True)
    assert log_in(ctx, "王建国", PASSWORD).name == "王建国"


@pytest.mark.parametrize("role", ["inspector", "grid_worker"])
def test_only_the_admin_manages_users(ctx, people, role):
    ctx.user = people["grid" if role == "grid_worker" else role]
    target = people["grid" if role == "inspector" else "inspector"]
    for call in (lambda: list_accounts(ctx), lambda: unlock_user(ctx, target.id),
                 lambda: set_active(ctx, target.id, False),
                 lambda: update_user(ctx, target.id, name="改名", role="admin"),
                 lambda: set_password(ctx, target.id, "hijacked-1")):
        with pytest.raises(PermissionDenied, match="无权管理用户"):
            call()
    ctx.user = people["admin"]
    assert all(u.active for u in list_accounts(ctx)) and len(list_accounts(ctx)) == 3
