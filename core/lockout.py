"""The log-in's shared answers and lockout rules (``core.users`` and the unlock before a database opens)."""
from __future__ import annotations

from datetime import datetime

from core.errors import DomainError

MAX_FAILURES = 5
LOCK_MINUTES = 15
WRONG_LOGIN = "用户名或密码错误"


class LoginFailed(DomainError):
    """Wrong name or password, or a locked account."""


def locked_message(locked_until: datetime, now: datetime) -> str:
    minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
    return f"连续输错密码次数过多，账户已锁定，请 {minutes} 分钟后再试"
