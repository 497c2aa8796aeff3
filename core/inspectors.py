"""The station's list of enforcement officers (执法人员名录) with their 执法证号."""
from __future__ import annotations

from sqlalchemy import select

from core.context import AppContext
from core.errors import InvalidInput
from core.inspections import OfficerData
from db.models import Inspector


def add_inspector(ctx: AppContext, name: str, cert_no: str) -> None:
    name, cert_no = name.strip(), cert_no.strip()
    if not name or not cert_no:
        raise InvalidInput("执法人员姓名和执法证号都不能为空")
    with ctx.transaction() as s:
        if s.scalar(select(Inspector.id).where(Inspector.cert_no == cert_no)):
            raise InvalidInput(f"执法证号 {cert_no} 已在名录中")
        s.add(Inspector(device_id=ctx.device_id, name=name, cert_no=cert_no, active=True))


def list_inspectors(ctx: AppContext, *, active_only: bool = True) -> list[OfficerData]:
    query = select(Inspector).order_by(Inspector.cert_no)
    if active_only:
        query = query.where(Inspector.active.is_(True))
    with ctx.sessions() as s:
        return [OfficerData(i.name, i.cert_no) for i in s.scalars(query)]
