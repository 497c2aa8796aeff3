"""询问笔录 (范本 14): a record of questioning, tied to an inspection or standalone for a subject.

The person asked (identity, relation to the party), time and place, two officers with 执法证号
(the two-officer rule of ``core.inspections.legal``), the 记录人, the 告知 of rights, the
questions and answers as an ordered list, the person's confirmation and the signatures with
their dates. The person asked signs every page (``core.printing`` draws the footer).

Numbers come from their own series (``prefix.questioning`` in 站所设置). Every write is one
transaction through the ORM, so it is audit-logged; signing stores a SHA-256 over the canonical
form and from then on ``core.guards`` refuses any change.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
import hashlib
import json
from typing import TYPE_CHECKING

from core.errors import InvalidInput, NotFound, RecordLocked
from core.text import bounded_text
from core.inspections import (
    OfficerData,
    SignatureRow,
    enforcement_problems,
    load_inspection,
    officer_role,
)
from core.numbering import next_number
from core.users import require
from db.models import Questioning, Subject

if TYPE_CHECKING:
    from core.context import AppContext

FORM = "questioning"
TITLE = "询问笔录"
PERSON_ROLE = "person"
PERSON_FIELDS = {"name": "姓名", "sex": "性别", "id_no": "身份证件号码", "unit": "工作单位", "position": "职务",
                 "phone": "联系电话", "address": "住址", "relation": "与当事人关系"}
DEFAULT_CONFIRMATION = "以上笔录我已看过，与我说的相符。"
DETAIL_FIELDS = ("place", "started_at", "ended_at", "recorder", "notice_answer", "recusal_answer", "confirmation")
MAX_TEXT = 4000


@dataclass(frozen=True)
class QuestioningRecord:
    id: str
    number: str
    status: str
    inspection_id: str | None
    inspection_number: str
    party: dict
    person: dict
    officers: list[OfficerData]
    details: dict
    qa: list[dict]
    signatures: dict[str, SignatureRow]
    content_hash: str | None
    legal: dict = field(default_factory=dict)  # what the print canvas reads (no wet signing here)

    @property
    def locked(self) -> bool:
        return self.status == "signed"

    @property
    def read_only(self) -> bool:
        return self.locked

    def current_hash(self) -> str:
        return hashlib.sha256(canonical(self).encode("utf-8")).hexdigest()


def canonical(record: QuestioningRecord) -> str:
    """What the content hash covers: everything said and who signed it (with the images' hashes)."""
    data = {"v": 1, "number": record.number, "inspection_id": record.inspection_id, "party": record.party,
            "person": record.person, "officers": [[o.name, o.cert_no] for o in record.officers],
            "details": record.details, "qa": record.qa,
            "signatures": {role: [s.signer_name, s.sha256, s.signed_at.isoformat() if s.signed_at else None]
                           for role, s in sorted(record.signatures.items())}}
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _record(row: Questioning) -> QuestioningRecord:
    content = json.loads(row.content_json or "{}")
    signatures = {}
    for role, s in json.loads(row.signatures_json or "{}").items():
        png = base64.b64decode(s["png"])
        signatures[role] = SignatureRow(role, s["name"], hashlib.sha256(png).hexdigest(), png,
                                        datetime.fromisoformat(s["signed_at"]) if s.get("signed_at") else None)
    return QuestioningRecord(
        id=row.id, number=row.number, status=row.status, inspection_id=row.inspection_id,
        inspection_number=content.get("inspection_number", ""), party=content.get("party", {}),
        person=content.get("person", {}), officers=[OfficerData(o[0], o[1]) for o in content.get("officers", [])],
        details=content.get("details", {}), qa=content.get("qa", []), signatures=signatures,
        content_hash=row.content_hash)


def _row(session, id_or_number: str) -> Questioning:
    row = session.get(Questioning, id_or_number)
    if row is None:
        row = session.query(Questioning).filter_by(number=id_or_number.strip()).one_or_none()
    if row is None:
        raise NotFound(f"没有询问笔录 {id_or_number}")
    return row


def _writable(session, id_or_number: str) -> Questioning:
    """The draft row, or ``RecordLocked`` for a signed one, ``InvalidInput`` for a voided one."""
    row = _row(session, id_or_number)
    if row.status == "signed":
        raise RecordLocked(f"询问笔录 {row.number} 已签名锁定，不能再修改")
    if row.status == "voided":
        raise InvalidInput(f"询问笔录 {row.number} 已作废，不能再修改")
    return row


def load_questioning(ctx: AppContext, id_or_number: str) -> QuestioningRecord:
    with ctx.sessions() as s:
        return _record(_row(s, id_or_number))


def list_questionings(ctx: AppContext, inspection_id: str) -> list[QuestioningRecord]:
    with ctx.sessions() as s:
        rows = s.query(Questioning).filter_by(inspection_id=inspection_id).order_by(Questioning.number).all()
        return [_record(r) for r in rows]


def create_questioning(ctx: AppContext, *, inspection_id: str | None = None, subject_id: str | None = None,
                       officers: list[OfficerData] | None = None) -> QuestioningRecord:
    """A new draft with its own number; from an inspection it takes the party, place and officers."""
    require(ctx, "inspect")
    content: dict = {"person": {}, "qa": [], "details": {"confirmation": ""}}
    if inspection_id:
        inspection = load_inspection(ctx, inspection_id)
        if inspection.status == "voided":
            raise InvalidInput(f"检查记录 {inspection.number} 已作废，不能再制作询问笔录")
        inspection_id, subject_id = inspection.id, inspection.subject_id
        content.update(party=inspection.party, inspection_number=inspection.number)
        content["details"]["place"] = inspection.party.get("address", "")
        officers = officers or inspection.officers
    elif subject_id:
        with ctx.transaction() as s:
            subject = s.get(Subject, subject_id)
            if subject is None:
                raise NotFound(f"没有监管对象 {subject_id}")
            content["party"] = {"name": subject.name, "credit_code": subject.credit_code or "",
                                "address": subject.address or ""}
            content["details"]["place"] = subject.address or ""
    else:
        raise InvalidInput("询问笔录须关联一次检查或一个监管对象")
    content["officers"] = [[o.name, o.cert_no] for o in (officers or [])]
    now = ctx.clock()
    content["details"]["started_at"] = now.isoformat(timespec="minutes")
    with ctx.transaction() as s:
        number = next_number(s, kind=FORM, prefix=ctx.setting("prefix.questioning"), year=now.year,
                             device_no=int(ctx.setting("device_no")))
        row = Questioning(device_id=ctx.device_id, number=number, inspection_id=inspection_id, subject_id=subject_id,
                          status="draft", content_json=json.dumps(content, ensure_ascii=False), signatures_json="{}",
                          created_by=ctx.user.name if ctx.user else "系统")
        s.add(row)
        s.flush()
        return _record(row)


def _edit(ctx: AppContext, questioning_id: str, change) -> QuestioningRecord:
    """Apply ``change(content)`` to a draft; any change of content drops the signatures drawn so far."""
    require(ctx, "inspect")
    with ctx.transaction() as s:
        row = _writable(s, questioning_id)
        content = json.loads(row.content_json)
        change(content)
        text = json.dumps(content, ensure_ascii=False)
        if text != row.content_json:  # saving what is there already keeps the signatures
            row.content_json = text
            row.signatures_json = "{}"
        s.flush()
        return _record(row)


def _text(value, label: str) -> str:
    return bounded_text(value, label, MAX_TEXT)


def set_person(ctx: AppContext, questioning_id: str, **person: str) -> QuestioningRecord:
    unknown = set(person) - set(PERSON_FIELDS)
    if unknown:
        raise InvalidInput(f"未知的被询问人信息：{'、'.join(sorted(unknown))}")
    clean = {k: _text(v, PERSON_FIELDS[k]) for k, v in person.items()}
    if clean.get("sex") and clean["sex"] not in ("男", "女"):
        raise InvalidInput("性别应为“男”或“女”")
    return _edit(ctx, questioning_id, lambda c: c["person"].update(clean))


def set_details(ctx: AppContext, questioning_id: str, **details: str) -> QuestioningRecord:
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise InvalidInput(f"未知的询问笔录项目：{'、'.join(sorted(unknown))}")
    clean = {k: _text(v, k) for k, v in details.items()}
    for key in ("started_at", "ended_at"):
        if clean.get(key):
            try:
                datetime.fromisoformat(clean[key])
            except ValueError:
                raise InvalidInput(f"询问时间格式不正确：{clean[key]}（例如 2026-05-12T09:30）") from None
    return _edit(ctx, questioning_id, lambda c: c["details"].update(clean))


def set_officers(ctx: AppContext, questioning_id: str, officers: list[OfficerData]) -> QuestioningRecord:
    names = [o.name.strip() for o in officers if o.name.strip()]
    if len(set(names)) != len(names):
        raise InvalidInput("执法人员不能重复")
    return _edit(ctx, questioning_id, lambda c: c.__setitem__(
        "officers", [[o.name.strip(), o.cert_no.strip()] for o in officers if o.name.strip()]))


def _qa_item(question: str, answer: str) -> dict:
    question, answer = _text(question, "问题"), _text(answer, "回答")
    if not question:
        raise InvalidInput("问题不能为空")
    return {"q": question, "a": answer}


def _index(content: dict, index: int) -> int:
    if not 0 <= index < len(content["qa"]):
        raise InvalidInput(f"没有第 {index + 1} 个问答")
    return index


def add_qa(ctx: AppContext, questioning_id: str, question: str, answer: str = "") -> QuestioningRecord:
    item = _qa_item(question, answer)
    return _edit(ctx, questioning_id, lambda c: c["qa"].append(item))


def edit_qa(ctx: AppContext, questioning_id: str, index: int, question: str, answer: str) -> QuestioningRecord:
    item = _qa_item(question, answer)
    return _edit(ctx, questioning_id, lambda c: c["qa"].__setitem__(_index(c, index), item))


def remove_qa(ctx: AppContext, questioning_id: str, index: int) -> QuestioningRecord:
    return _edit(ctx, questioning_id, lambda c: c["qa"].pop(_index(c, index)))


def move_qa(ctx: AppContext, questioning_id: str, index: int, to: int) -> QuestioningRecord:
    def change(c: dict) -> None:
        item = c["qa"].pop(_index(c, index))
        if not 0 <= to <= len(c["qa"]):
            raise InvalidInput(f"不能移到第 {to + 1} 位")
        c["qa"].insert(to, item)
    return _edit(ctx, questioning_id, change)


def signature_roles(record: QuestioningRecord) -> list[str]:
    return [PERSON_ROLE, *(officer_role(i) for i in range(len(record.officers)))]


def signer_labels(record: QuestioningRecord) -> dict[str, str]:
    labels = {PERSON_ROLE: "被询问人"}
    labels.update({officer_role(i): f"执法人员 {o.name}" for i, o in enumerate(record.officers)})
    return labels


def add_signature(ctx: AppContext, questioning_id: str, role: str, name: str, png: bytes) -> QuestioningRecord:
    record = load_questioning(ctx, questioning_id)
    if role not in signature_roles(record):
        raise InvalidInput(f"询问笔录没有“{role}”的签名位置")
    if not png.startswith(b"\x89PNG") or not name.strip():
        raise InvalidInput("签名须有签名人姓名和手写签名图像")
    if role == PERSON_ROLE and not record.details.get("confirmation", "").strip():
        raise InvalidInput("被询问人须先阅读笔录并写明确认意见（如“以上笔录我已看过，与我说的相符”），再签名")
    signed_at = ctx.clock().isoformat(timespec="seconds")

    require(ctx, "inspect")
    with ctx.transaction() as s:
        row = _writable(s, questioning_id)
        signatures = json.loads(row.signatures_json)
        signatures[role] = {"name": name.strip(), "signed_at": signed_at, "png": base64.b64encode(png).decode()}
        row.signatures_json = json.dumps(signatures, ensure_ascii=False)
        s.flush()
        return _record(row)


def problems(record: QuestioningRecord) -> list[str]:
    """What keeps this 询问笔录 from being signed and locked."""
    found = []
    officers = enforcement_problems(record)  # fewer than two, or one without 执法证号
    if officers:
        found.append("询问须由两名以上持有执法证件的执法人员进行（《中华人民共和国行政处罚法》第四十二条）："
                     + "；".join(officers))
    person = record.person
    missing = [label for key, label in PERSON_FIELDS.items() if key in ("name", "id_no") and not person.get(key)]
    if missing:
        found.append(f"被询问人缺少{'、'.join(missing)}")
    if not record.details.get("recorder"):
        found.append("未填写记录人")
    if not record.details.get("place"):
        found.append("未填写询问地点")
    if not record.qa:
        found.append("没有问答内容")
    if not record.details.get("confirmation", "").strip():
        found.append("被询问人尚未写明确认意见")
    unsigned = [signer_labels(record)[r] for r in signature_roles(record) if r not in record.signatures]
    if unsigned:
        found.append(f"尚未签名：{'、'.join(unsigned)}")
    return found


def sign_questioning(ctx: AppContext, questioning_id: str) -> QuestioningRecord:
    """Check, then lock: the content hash is stored and nothing changes afterwards."""
    require(ctx, "sign")
    record = load_questioning(ctx, questioning_id)
    if record.locked:
        raise InvalidInput(f"询问笔录 {record.number} 已签名锁定")
    if record.status == "voided":
        raise InvalidInput(f"询问笔录 {record.number} 已作废，不能签名")
    found = problems(record)
    if found:
        raise InvalidInput(f"询问笔录 {record.number} 不能签名锁定：{'；'.join(found)}")
    with ctx.transaction() as s:
        row = _row(s, questioning_id)
        content = json.loads(row.content_json)
        if not content["details"].get("ended_at"):  # the questioning ends when it is signed
            content["details"]["ended_at"] = ctx.clock().isoformat(timespec="minutes")
            row.content_json = json.dumps(content, ensure_ascii=False)
        locked = _record(row)
        row.content_hash = locked.current_hash()
        row.status = "signed"
        row.signed_at = ctx.clock()
        s.flush()
        return _record(row)

