"""Users, log-in and permissions.

Passwords are hashed with scrypt (memory-hard, in Python's standard library). Repeated
failures lock the account for a while. Permissions are enforced here, in the core,
whoever calls: a grid worker asking a service directly for an enforcement action is
refused just as the GUI would refuse.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
import hashlib
import hmac
import os
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.errors import DomainError, InvalidInput, NotFound
from core.lockout import LOCK_MINUTES, MAX_FAILURES, WRONG_LOGIN, LoginFailed, locked_message
from core.officer_keys import make_key, revoke_keys, rewrap_key
from db.models import User

if TYPE_CHECKING:
    from core.context import AppContext

ROLES = {"inspector": "执法人员", "grid_worker": "网格员", "admin": "站所管理员"}
MIN_PASSWORD = 6
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # 16 MiB per hash


class PermissionDenied(DomainError):
    """The logged-in user's role does not allow this action."""


# What each role may do. The GUI hides what a role cannot do; these checks are the rule.
# Station-level actions (settings, devices, conflicts, restoring a backup, the demo) are
# the admin's; syncing one's own work ("sync") is every role's.
PERMISSIONS = {
    "admin": {"subjects", "inspect", "sign", "print", "oversight", "report_lead", "manage_leads",
              "handle_lead", "users", "settings", "resolve_conflicts", "manage_devices", "restore", "demo", "sync",
              "stats", "approve_corrections", "approve_cases", "manage_resources"},
    "inspector": {"subjects", "inspect", "sign", "print", "oversight", "report_lead", "handle_lead", "sync", "stats"},
    "grid_worker": {"report_lead", "sync"},
}
ACTION_TEXT = {
    "subjects": "维护监管对象名册", "inspect": "进行执法检查", "sign": "签名锁定执法文书",
    "print": "打印执法文书", "oversight": "管理检查任务和风险等级", "report_lead": "上报线索",
    "manage_leads": "接收和分办线索", "handle_lead": "处置线索", "users": "管理用户", "settings": "修改站所设置",
    "resolve_conflicts": "处理同步冲突", "manage_devices": "登记或吊销同步设备", "restore": "从备份恢复数据库",
    "demo": "建立示例站所", "sync": "同步数据", "stats": "查看统计报表",
    "approve_corrections": "批准更正已签名的执法文书",
    "approve_cases": "审批立案（所长）",
    "manage_resources": "发布检查表和规则",
}


@dataclass(frozen=True)
class UserRow:
    id: str
    name: str
    role: str
    cert_no: str
    grid: str
    can_log_in: bool
    active: bool = True
    locked: bool = False  # too many wrong passwords: refused until the lock runs out or an admin unlocks

    @property
    def role_label(self) -> str:
        return ROLES[self.role]

    @property
    def needs_attention(self) -> bool:
        return not self.active or self.locked

    @property
    def state_label(self) -> str:
        if not self.active:
            return "已停用"
        if self.locked:
            return "已锁定"
        return "正常" if self.can_log_in else "未设密码"


def _row(user: User, now: datetime | None = None) -> UserRow:
    locked = now is not None and user.locked_until is not None and user.locked_until > now
    return UserRow(user.id, user.name, user.role, user.cert_no or "", user.grid, user.password_hash is not None,
                   bool(user.active), locked)


def require(ctx: AppContext, action: str) -> None:
    """Refuse ``action`` unless the logged-in user's role allows it.

    With nobody logged in (the headless CLI, run by the station admin on the station's
    machine, and tests of the services) the core acts as the system and allows it.
    """
    require_user(ctx.user, action)


def require_user(user: UserRow | None, action: str) -> None:
    """``require`` for services that act on files rather than a context (restoring a backup)."""
    if user is None or action in PERMISSIONS[user.role]:
        return
    raise PermissionDenied(f"{ROLES[user.role]}{user.name}无权{ACTION_TEXT[action]}")


# Who may log in on an enrolled laptop: only their password verifiers travel there (core.sync.export).
LAPTOP_ROLES = ("inspector", "grid_worker")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, maxmem=64 * 2**20, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                               maxmem=64 * 2**20, dklen=32)
    return hmac.compare_digest(candidate.hex(), digest)


def _check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 位")


def add_user(ctx: AppContext, *, name: str, role: str, password: str | None, cert_no: str = "",
             grid: str = "") -> UserRow:
    """Add a user. An inspector needs a 执法证号, a grid worker a grid."""
    if ctx.user is not None or has_admin(ctx):
        require(ctx, "users")
    name, cert_no, grid = name.strip(), cert_no.strip(), grid.strip()
    _check_fields(name, role, cert_no, grid)
    if password is not None:
        _check_password_rules(password)
    with ctx.transaction() as s:
        _check_unique(s, name, cert_no)
        user = User(device_id=ctx.device_id, name=name, role=role, cert_no=cert_no or None, grid=grid,
                    password_hash=hash_password(password) if password is not None else None)
        s.add(user)
        s.flush()
        if role == "inspector" and password is not None:  # the officer's own signing key, made here
            make_key(s, user, password, now=ctx.clock(), device_id=ctx.device_id)
        return _row(user)


def _check_fields(name: str, role: str, cert_no: str, grid: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"未知的角色“{role}”（可用：{'、'.join(ROLES)}）")
    if not name:
        raise InvalidInput("姓名不能为空")
    if role == "inspector" and not cert_no:
        raise InvalidInput("执法人员必须填写执法证号")
    if role == "grid_worker" and not grid:
        raise InvalidInput("网格员必须填写所在网格")


def _check_unique(s, name: str, cert_no: str, user_id: str | None = None) -> None:
    other = select(User.id).where(User.id != user_id) if user_id else select(User.id)
    if s.scalar(other.where(User.name == name)):
        raise InvalidInput(f"用户“{name}”已存在")
    if cert_no and s.scalar(other.where(User.cert_no == cert_no)):
        raise InvalidInput(f"执法证号 {cert_no} 已登记")


def set_password(ctx: AppContext, user_id: str, password: str, *, old_password: str | None = None) -> None:
    """Set a password. An officer's signing key: rewrapped when the officer gives the old
    password (``old_password``); otherwise (a reset by the admin, who does not know it) a new
    key, the old one revoked for new signatures — the signatures it made stay valid."""
    if ctx.user is None or ctx.user.id != user_id:
        require(ctx, "users")
    _check_password_rules(password)
    with ctx.transaction() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound("找不到该用户")
        if old_password is not None and (user.password_hash is None or not check_password(old_password,
                                                                                        user.password_hash)):
            raise InvalidInput("原密码不正确，密码未更改")
        user.password_hash = hash_password(password)
        user.failed_logins, user.locked_until = 0, None
        if user.role == "inspector" and user.cert_no:
            if old_password is not None:
                rewrap_key(s, user, old_password, password, now=ctx.clock(), device_id=ctx.device_id)
            else:
                make_key(s, user, password, now=ctx.clock(), device_id=ctx.device_id)
        name = user.name
    from core.encryption import after_password

    after_password(ctx, name, password)  # an encrypted database: the wrap under the new password


def has_admin(ctx: AppContext) -> bool:
    with ctx.sessions() as s:
        return bool(s.scalar(select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))))


def has_log_in(ctx: AppContext) -> bool:
    """Whether anyone can log in here (an active user with a password): a laptop just enrolled cannot yet."""
    with ctx.sessions() as s:
        return bool(s.scalar(select(func.count(User.id)).where(User.active.is_(True), User.password_hash.is_not(None))))




@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A verifier no password matches, checked for an unknown name so it costs what a known one does."""
    return hash_password(os.urandom(16).hex())


_locked_message = locked_message


def log_in(ctx: AppContext, name: str, password: str) -> UserRow:
    """Check the password; on success the context acts as this user from now on.

    An unknown name, a user without a password here and a wrong password get the same
    answer after the same key derivation, and an unknown name is locked out after as many
    tries as a real one (counted in this process), so the log-in tells nobody which names exist.
    """
    now = ctx.clock()
    name = name.strip()
    with ctx.transaction() as s:
        user = s.scalar(select(User).where(User.name == name, User.active.is_(True)))
        known = user is not None and user.password_hash is not None
        if not known:
            failures, locked_until = ctx.unknown_logins.get(name, (0, None))
            if locked_until is not None and locked_until > now:
                raise LoginFailed(_locked_message(locked_until, now))
            check_password(password, _decoy_hash())
            failures += 1
            if failures >= MAX_FAILURES:
                ctx.unknown_logins[name] = (0, now + timedelta(minutes=LOCK_MINUTES))
                raise LoginFailed(f"连续输错密码 {MAX_FAILURES} 次，账户锁定 {LOCK_MINUTES} 分钟")
            ctx.unknown_logins[name] = (failures, None)
            raise LoginFailed(WRONG_LOGIN)
        if user.locked_until is not None and user.locked_until > now:
            raise LoginFailed(_locked_message(user.locked_until, now))
        if not check_password(password, user.password_hash):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                user.failed_logins = 0
                failed = LoginFailed(f"连续输错密码 {MAX_FAILURES} 次，账户锁定 {LOCK_MINUTES} 分钟")
            else:
                failed = LoginFailed(WRONG_LOGIN)
        else:
            failed = None
            user.failed_logins, user.locked_until = 0, None
            row = _row(user)
    if failed is not None:  # the failure count is committed before refusing
        raise failed
    from core.encryption import after_log_in

    after_log_in(ctx, row.name, password)  # an encrypted database: this user's wrap made or renewed
    ctx.user = row
    return row


def log_out(ctx: AppContext) -> None:
    """Nobody is logged in any more; the GUI shows the log-in dialog again."""
    ctx.user = None


def list_users(ctx: AppContext, *, role: str | None = None) -> list[UserRow]:
    query = select(User).where(User.active.is_(True)).order_by(User.role, User.name)
    if role:
        query = query.where(User.role == role)
    with ctx.sessions() as s:
        return [_row(u) for u in s.scalars(query)]


def get_user(ctx: AppContext, user_id: str) -> UserRow:
    with ctx.sessions() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound("找不到该用户")
        return _row(user)


# --- the admin's user management (站所设置 → 用户): never deleting, their records stay theirs ---------

def list_accounts(ctx: AppContext) -> list[UserRow]:
    """Every user, deactivated ones included, with whether each is locked now. The admin's ("users")."""
    require(ctx, "users")
    now = ctx.clock()
    with ctx.sessions() as s:
        return [_row(u, now) for u in s.scalars(select(User).order_by(User.active.desc(), User.role, User.name))]


def _account(s, user_id: str) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFound("找不到该用户")
    return user


def _other_active_admins(s, user_id: str) -> int:
    return s.scalar(select(func.count(User.id)).where(User.role == "admin", User.active.is_(True),
                                                      User.id != user_id)) or 0


def update_user(ctx: AppContext, user_id: str, *, name: str, role: str, cert_no: str = "", grid: str = "") -> UserRow:
    """Change a user's name (also the log-in name), role, 执法证号 and grid.

    Records already signed keep the names and numbers they were signed with. The station
    keeps at least one active admin: the last one cannot be given another role.
    """
    require(ctx, "users")
    name, cert_no, grid = name.strip(), cert_no.strip(), grid.strip()
    _check_fields(name, role, cert_no, grid)
    with ctx.transaction() as s:
        user = _account(s, user_id)
        _check_unique(s, name, cert_no, user_id)
        if user.role == "admin" and role != "admin" and user.active and not _other_active_admins(s, user_id):
            raise InvalidInput("本所至少要保留一位在用的站所管理员，不能更改最后一位管理员的角色")
        if ctx.user is not None and ctx.user.id == user_id and role != user.role:
            raise InvalidInput("不能更改自己正在使用的账户的角色，请由另一位管理员更改")
        if user.role == "inspector" and (role != "inspector" or (cert_no or None) != user.cert_no):
            # a key signs for one 执法证号: a new key with the next password
            revoke_keys(s, user.id, now=ctx.clock())
        user.name, user.role, user.cert_no, user.grid = name, role, cert_no or None, grid
        s.flush()
        return _row(user, ctx.clock())


def unlock_user(ctx: AppContext, user_id: str) -> UserRow:
    """Lift the lock after too many wrong passwords (the admin's, "users")."""
    require(ctx, "users")
    with ctx.transaction() as s:
        user = _account(s, user_id)
        user.failed_logins, user.locked_until = 0, None
        s.flush()
        return _row(user, ctx.clock())


def set_active(ctx: AppContext, user_id: str, active: bool) -> UserRow:
    """Deactivate someone who left (they can no longer log in; what they did stays theirs), or reactivate.

    Nobody is ever deleted. An admin cannot deactivate their own account, nor the last active admin.
    """
    require(ctx, "users")
    with ctx.transaction() as s:
        user = _account(s, user_id)
        if not active:
            if ctx.user is not None and ctx.user.id == user_id:
                raise InvalidInput("不能停用自己正在使用的账户")
            if user.role == "admin" and user.active and not _other_active_admins(s, user_id):
                raise InvalidInput("本所至少要保留一位在用的站所管理员，不能停用最后一位管理员")
        if not active:  # an officer who leaves signs nothing new; what they signed stays valid
            revoke_keys(s, user.id, now=ctx.clock())
        user.active = active
        s.flush()
        row = _row(user, ctx.clock())
    from core.encryption import after_users_changed

    after_users_changed(ctx)  # a deactivated user's wrap goes
    return row


def revoke_signing_key(ctx: AppContext, user_id: str) -> int:
    """A lost or exposed officer's signing key (the admin's, "users"): revoked for new signatures
    from now; what it signed before stays valid. The officer signs again once given a new
    password (a new key). Returns how many keys were revoked (0: none was valid)."""
    require(ctx, "users")
    with ctx.transaction() as s:
        _account(s, user_id)
        return revoke_keys(s, user_id, now=ctx.clock())
