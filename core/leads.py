"""The lead loop (线索闭环): a grid worker reports, the station handles and answers.

reported (上报) → received (接收) → assigned (分办) → handled (处置: a trigger event that
creates or joins an inspection task, attached to a case, or unfounded) → fed back (反馈)
→ closed (办结). Each step is timed and attributed; a lead is checked within 15 working
days of receipt (DOMAIN.md §3). Who reported it is shown only to the station admin and
the assigned inspector.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.errors import InvalidInput, NotFound, WorkflowError
from core.inspections import OfficerData, photo_path, store_image
from core.tasks import apply_event
from core import published
from core.subjects import subject_in
from core.station_filter import station_clause
from core.users import PermissionDenied, require
from core.workdays import add_working_days
from db.models import Lead, LeadPhoto, Subject, User

if TYPE_CHECKING:
    from core.context import AppContext

CATEGORIES = {
    "fake_drugs": "假劣药品",
    "irregular_channel": "药品来源渠道不正规",
    "unlicensed_selling": "无证经营药品医疗器械（游医药贩）",
    "expired_in_use": "使用过期药品医疗器械",
    "cosmetics_violation": "自制、过期、未注册或未备案化妆品",
    "false_advertising": "虚假或医疗用语宣传",
    "online_selling": "违法网络销售",
    "other": "其他",
}
STATUS_LABELS = {"reported": "已上报", "received": "已接收", "assigned": "已分办", "handled": "已处置",
                 "fed_back": "已反馈", "closed": "已办结"}
HANDLINGS = {"event": "转为触发事件（检查任务）", "case": "并入案件办理", "unfounded": "经核查不属实"}
CHECK_WORKING_DAYS = 15
HIDDEN = "（仅所长和承办人可见）"


@dataclass(frozen=True)
class LeadRow:
    id: str
    category: str
    subject_id: str | None
    subject: str
    address: str
    description: str
    place: str
    reporter: str
    reported_at: datetime
    status: str
    due: date | None
    overdue: bool
    assigned_to: str
    handling: str
    handling_note: str
    feedback: str
    photos: list[Path]
    steps: list[tuple[str, datetime, str]]
    photo_ids: tuple[str, ...] = ()  # the ``photos``' records, in the same order (删除照片)

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def as_dict(self) -> dict:
        return {"id": self.id, "category": self.category, "subject": self.subject, "reporter": self.reporter,
                "status": self.status, "reported_at": self.reported_at.isoformat(),
                "due": self.due.isoformat() if self.due else None, "overdue": self.overdue,
                "photos": list(self.photo_ids)}


def _row(ctx: AppContext, lead: Lead, names: dict[str, str], today: date) -> LeadRow:
    viewer = ctx.user
    sees_reporter = viewer is None or viewer.role == "admin" or viewer.id in (lead.assigned_to, lead.reporter_id)
    subject_name = lead.party_name
    address = lead.party_address
    steps = [("上报", lead.reported_at, names.get(lead.reporter_id, "") if sees_reporter else HIDDEN)]
    for label, at, who in (("接收", lead.received_at, lead.received_by),
                           ("分办", lead.assigned_at, names.get(lead.assigned_to or "", "")),
                           ("处置", lead.handled_at, lead.handled_by), ("反馈", lead.fed_back_at, ""),
                           ("办结", lead.closed_at, "")):
        if at is not None:
            steps.append((label, at, who))
    return LeadRow(
        id=lead.id, category=lead.category, subject_id=lead.subject_id, subject=subject_name, address=address,
        description=lead.description, place=lead.place,
        reporter=names.get(lead.reporter_id, "") if sees_reporter else HIDDEN,
        reported_at=lead.reported_at, status=lead.status, due=lead.due,
        overdue=lead.due is not None and lead.status in ("received", "assigned") and lead.due < today,
        assigned_to=names.get(lead.assigned_to or "", ""), handling=lead.handling,
        handling_note=lead.handling_note, feedback=lead.feedback,
        photos=[photo_path(ctx, p.sha256, p.ext) for p in lead.photos], steps=steps,
        photo_ids=tuple(p.id for p in lead.photos),
    )


def report_lead(ctx: AppContext, *, category: str, description: str, subject_id: str | None = None,
                party_name: str = "", party_address: str = "", place: str = "",
                photos: list[Path] = ()) -> str:
    """A grid worker (or anyone on the station's list) reports what they saw; time is automatic."""
    require(ctx, "report_lead")
    if ctx.user is None:
        raise PermissionDenied("上报线索需要先登录，以便记录上报人")
    if category not in CATEGORIES:
        raise InvalidInput(f"未知的线索类别“{category}”")
    if not description.strip():
        raise InvalidInput("请描述发现的问题")
    stored = [store_image(ctx, Path(p)) for p in photos]  # refuses non-images before anything is saved
    with ctx.transaction() as s:
        if subject_id:
            subject = subject_in(s, subject_id)
            party_name, party_address = subject.name, subject.address
        elif not party_name.strip():
            raise InvalidInput("请选择监管对象，或填写未登记经营者的名称")
        lead = Lead(device_id=ctx.device_id, category=category, subject_id=subject_id,
                    party_name=party_name.strip(), party_address=party_address.strip(),
                    description=description.strip(), place=place.strip(), reporter_id=ctx.user.id,
                    reported_at=ctx.clock(), status="reported")
        for (sha, ext, _path), source in zip(stored, photos):
            lead.photos.append(LeadPhoto(device_id=ctx.device_id, sha256=sha, ext=ext, original_name=Path(source).name))
        s.add(lead)
        s.flush()
        return lead.id


def _names(session) -> dict[str, str]:
    return dict(session.execute(select(User.id, User.name)).all())


def list_leads(ctx: AppContext, *, status: str | None = None, today: date | None = None,
               station: str | None = None) -> list[LeadRow]:
    """Leads the user may see: a grid worker their own, the station all; overdue first (``station``:
    a county's database, the leads reported on that station's devices)."""
    if status is not None and status not in STATUS_LABELS:
        raise InvalidInput(f"未知的线索状态“{status}”（可用：{'、'.join(STATUS_LABELS)}）")
    today = today or ctx.clock().date()
    query = select(Lead).options(selectinload(Lead.photos))
    if status:
        query = query.where(Lead.status == status)
    user = ctx.user
    if user is not None and user.role == "grid_worker":
        query = query.where(Lead.reporter_id == user.id)
    if station:
        query = query.where(station_clause(ctx, Lead.device_id, station))
    with ctx.sessions() as s:
        names = _names(s)
        rows = [_row(ctx, lead, names, today) for lead in s.scalars(query)]
    rows.sort(key=lambda r: (not r.overdue, r.status == "closed", r.due or date.max, r.reported_at))
    return rows


def get_lead(ctx: AppContext, lead_id: str) -> LeadRow:
    for row in list_leads(ctx):
        if row.id == lead_id:
            return row
    raise NotFound("找不到该线索")


def _lead(session, lead_id: str, *, expect: tuple[str, ...]) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("找不到该线索")
    if lead.status not in expect:
        wanted = "、".join(STATUS_LABELS[s] for s in expect)
        raise WorkflowError(f"该线索当前为“{STATUS_LABELS[lead.status]}”，此操作只适用于“{wanted}”的线索")
    return lead


def _actor(ctx: AppContext) -> str:
    return ctx.user.name if ctx.user is not None else "系统"


def receive_lead(ctx: AppContext, lead_id: str) -> None:
    """The station receives it: the 15-working-day check deadline starts."""
    require(ctx, "manage_leads")
    with ctx.transaction() as s:
        lead = _lead(s, lead_id, expect=("reported",))
        now = ctx.clock()
        lead.status, lead.received_at, lead.received_by = "received", now, _actor(ctx)
        lead.due = add_working_days(now.date(), CHECK_WORKING_DAYS).due


def assign_lead(ctx: AppContext, lead_id: str, inspector_id: str) -> None:
    require(ctx, "manage_leads")
    with ctx.transaction() as s:
        lead = _lead(s, lead_id, expect=("received", "assigned"))
        inspector = s.get(User, inspector_id)
        if inspector is None or inspector.role != "inspector" or not inspector.active:
            raise InvalidInput("只能分办给在岗执法人员")
        lead.status, lead.assigned_to, lead.assigned_at = "assigned", inspector.id, ctx.clock()


def handle_lead(ctx: AppContext, lead_id: str, handling: str, note: str = "", *,
                event_type: str = "grid_finding") -> str | None:
    """Handle an assigned lead: a trigger event (creates or joins a task), a case, or unfounded."""
    require(ctx, "handle_lead")
    if handling not in HANDLINGS:
        raise InvalidInput(f"未知的处置方式“{handling}”")
    if handling == "unfounded" and not note.strip():
        raise InvalidInput("经核查不属实的，必须写明核查情况")
    trigger_rules, grades = published.rules(ctx)
    with ctx.transaction() as s:
        lead = _lead(s, lead_id, expect=("assigned",))
        _only_assignee(ctx, lead, "处置")
        task_event = None
        if handling == "event":
            if lead.subject_id is None:
                raise WorkflowError("未登记的经营者须先登记为监管对象，才能转为触发事件")
            # the inspector who checked the lead is the task's officer, unless it already has some
            assignee = s.get(User, lead.assigned_to) if lead.assigned_to else None
            outcome = apply_event(
                s, ctx, s.get(Subject, lead.subject_id), event_type, ctx.clock().date(), trigger_rules, grades,
                source_ref=f"LEAD-{lead.id[:8]}", source="lead",
                details=f"网格员线索（{CATEGORIES[lead.category]}）：{lead.description}",
                officers=[OfficerData(assignee.name, assignee.cert_no or "")] if assignee is not None else None,
            )
            lead.event_id = task_event = outcome.event_id
        lead.status, lead.handled_at, lead.handled_by = "handled", ctx.clock(), _actor(ctx)
        lead.handling, lead.handling_note = handling, note.strip()
        return task_event


def _only_assignee(ctx: AppContext, lead: Lead, what: str) -> None:
    user = ctx.user
    if user is not None and user.role == "inspector" and user.id != lead.assigned_to:
        raise PermissionDenied(f"只有承办人可以{what}该线索")


def feed_back(ctx: AppContext, lead_id: str, text: str) -> None:
    """Tell the reporter what became of it."""
    require(ctx, "handle_lead")
    if not text.strip():
        raise InvalidInput("反馈内容不能为空")
    with ctx.transaction() as s:
        lead = _lead(s, lead_id, expect=("handled",))
        _only_assignee(ctx, lead, "反馈")
        lead.status, lead.feedback, lead.fed_back_at = "fed_back", text.strip(), ctx.clock()


def close_lead(ctx: AppContext, lead_id: str) -> None:
    require(ctx, "manage_leads")
    with ctx.transaction() as s:
        lead = _lead(s, lead_id, expect=("fed_back",))
        lead.status, lead.closed_at = "closed", ctx.clock()
