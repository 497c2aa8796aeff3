"""The case papers' shared record (``CaseRecord``), loading, numbering and locking."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.casework.kinds import KIND_TITLES, PREFIX_KEYS, STATUS_LABELS, content_hash
from core.errors import InvalidInput, NotFound, RecordLocked
from core.inspections import OfficerData
from core.numbering import next_number
from db.models import CaseDocument

if TYPE_CHECKING:
    from core.context import AppContext


@dataclass(frozen=True)
class CaseRecord:
    """One case paper as the forms and the GUI read it. Signatures are on the paper original."""

    id: str
    number: str
    kind: str
    status: str
    inspection_id: str | None
    subject_id: str | None
    parent_id: str | None
    content: dict
    content_hash: str | None
    signatures: dict = field(default_factory=dict)  # none drawn: signed on paper
    legal: dict = field(default_factory=lambda: {"wet": True})

    @property
    def title(self) -> str:
        return KIND_TITLES[self.kind]

    @property
    def locked(self) -> bool:
        return self.status == "signed"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def officers(self) -> list[OfficerData]:
        return [OfficerData(n, c) for n, c in self.content.get("officers", [])]

    @property
    def party(self) -> dict:
        return self.content.get("party", {})

    def current_hash(self) -> str:
        return content_hash(self.number, self.kind, self.inspection_id, self.parent_id, self.content)


def record_of(row: CaseDocument) -> CaseRecord:
    return CaseRecord(row.id, row.number, row.kind, row.status, row.inspection_id, row.subject_id, row.parent_id,
                      json.loads(row.content_json or "{}"), row.content_hash)


def row_of(session, id_or_number: str, kind: str | None = None) -> CaseDocument:
    row = session.get(CaseDocument, id_or_number)
    if row is None:
        row = session.scalar(select(CaseDocument).where(CaseDocument.number == str(id_or_number).strip()))
    if row is None or (kind is not None and row.kind != kind):
        raise NotFound(f"没有{KIND_TITLES.get(kind, '案件文书') if kind else '案件文书'} {id_or_number}")
    return row


def load_case_document(ctx: AppContext, id_or_number: str, kind: str | None = None) -> CaseRecord:
    with ctx.sessions() as s:
        return record_of(row_of(s, id_or_number, kind))


def list_case_documents(ctx: AppContext, *, inspection_id: str | None = None, kind: str | None = None,
                        parent_id: str | None = None) -> list[CaseRecord]:
    query = select(CaseDocument).order_by(CaseDocument.created_at, CaseDocument.number)
    if inspection_id is not None:
        query = query.where(CaseDocument.inspection_id == inspection_id)
    if kind is not None:
        query = query.where(CaseDocument.kind == kind)
    if parent_id is not None:
        query = query.where(CaseDocument.parent_id == parent_id)
    with ctx.sessions() as s:
        return [record_of(r) for r in s.scalars(query)]


def new_row(ctx: AppContext, session, kind: str, content: dict, *, inspection_id: str | None = None,
            subject_id: str | None = None, parent_id: str | None = None) -> CaseDocument:
    """A draft with the next number of its own series, in the caller's transaction."""
    key, _default = PREFIX_KEYS[kind]
    number = next_number(session, kind=kind, prefix=ctx.setting(key), year=ctx.clock().year,
                         device_no=int(ctx.setting("device_no")))
    row = CaseDocument(device_id=ctx.device_id, number=number, kind=kind, inspection_id=inspection_id,
                       subject_id=subject_id, parent_id=parent_id, status="draft",
                       content_json=json.dumps(content, ensure_ascii=False),
                       created_by=ctx.user.name if ctx.user else "系统")
    session.add(row)
    session.flush()
    return row


def writable(row: CaseDocument, *statuses: str) -> None:
    """Refuse a change unless the row is in one of ``statuses`` (default: a draft)."""
    statuses = statuses or ("draft",)
    if row.status == "signed":
        raise RecordLocked(f"{KIND_TITLES[row.kind]} {row.number} 已签发锁定，不能再修改")
    if row.status not in statuses:
        raise InvalidInput(f"{KIND_TITLES[row.kind]} {row.number} 当前为{STATUS_LABELS.get(row.status, row.status)}，"
                           "不能这样修改")


def put_content(row: CaseDocument, content: dict) -> None:
    row.content_json = json.dumps(content, ensure_ascii=False)


def lock(ctx: AppContext, row: CaseDocument) -> None:
    """Signed: the content hash is stored and from now on the row never changes."""
    row.content_hash = record_of(row).current_hash()
    row.status = "signed"
    row.signed_at = ctx.clock()
