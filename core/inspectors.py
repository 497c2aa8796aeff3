"""The station's list of enforcement officers (执法人员名录): the users with role inspector."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from core.inspections import OfficerData
from core.users import add_user
from db.models import User

if TYPE_CHECKING:
    from core.context import AppContext


def add_inspector(ctx: AppContext, name: str, cert_no: str, *, password: str | None = None) -> None:
    """Put an officer on the list; without a password they are listed but cannot log in."""
    add_user(ctx, name=name, role="inspector", password=password, cert_no=cert_no)


def list_inspectors(ctx: AppContext, *, active_only: bool = True) -> list[OfficerData]:
    query = select(User).where(User.role == "inspector").order_by(User.cert_no)
    if active_only:
        query = query.where(User.active.is_(True))
    with ctx.sessions() as s:
        return [OfficerData(u.name, u.cert_no or "") for u in s.scalars(query)]
