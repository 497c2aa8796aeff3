"""送达回证 (范本 10): how a document of an inspection was served.

The document (its name and number: the 责令改正通知书, the 现场检查笔录, or a later document
named explicitly), the recipient, the 送达方式, the place and time, the officers who served it
(送达人). 留置送达 (the recipient refuses to sign) needs the reason, a witness (name and unit)
and the reference of the photo or video of the service; 邮寄送达 the postal tracking number.

A receipt is recorded whole, in one transaction, with its own number (``prefix.service``) and
locked at once (content hash, ``core.guards``): the recipient's, the witness's and the
officers' signatures are written on the printed original, which is kept in the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
import hashlib
import json
from typing import TYPE_CHECKING

from core.errors import InvalidInput, NotFound
from core.text import bounded_text
from core.inspections import OfficerData, load_inspection
from core.numbering import next_number
from core.users import require
from db.models import ServiceReceipt

if TYPE_CHECKING:
    from core.context import AppContext

FORM = "service"
TITLE = "送达回证"
METHODS = ("直接送达", "留置送达", "邮寄送达", "委托送达", "电子送达")
LEFT = "留置送达"
MAX_TEXT = 500


@dataclass(frozen=True)
class ServiceRecord:
    id: str
    number: str
    status: str
    inspection_id: str
    content: dict
    content_hash: str | None
    signatures: dict = field(default_factory=dict)  # signed on paper: none drawn
    legal: dict = field(default_factory=lambda: {"wet": True})

    @property
    def locked(self) -> bool:
        return self.status == "signed"

    @property
    def officers(self) -> list[OfficerData]:
        return [OfficerData(n, c) for n, c in self.content.get("servers", [])]

    def current_hash(self) -> str:
        data = json.dumps({"v": 1, "number": self.number, "inspection_id": self.inspection_id,
                           "content": self.content}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _record(row: ServiceReceipt) -> ServiceRecord:
    return ServiceRecord(row.id, row.number, row.status, row.inspection_id, json.loads(row.content_json),
                         row.content_hash)


def _document(record, document: str, name: str, number: str) -> tuple[str, str]:
    if document == "rectification":
        if record.rectification is None:
            raise InvalidInput(f"检查记录 {record.number} 没有责令改正通知书，无需送达")
        return "责令改正通知书", record.rectification.number
    if document == "record":
        return "现场检查笔录", record.number
    if document == "other":  # a later document of this inspection, named by the inspector
        if not name.strip() or not number.strip():
            raise InvalidInput("送达其他文书须写明文书名称和文号")
        return name.strip(), number.strip()
    raise InvalidInput(f"未知的送达文书“{document}”（可用：rectification、record、other）")


def _text(value: str, label: str) -> str:
    return bounded_text(value, label, MAX_TEXT)


def record_service(ctx: AppContext, inspection_id: str, *, method: str, recipient: str, place: str,
                   document: str = "rectification", doc_name: str = "", doc_number: str = "",
                   served_at: datetime | None = None, refusal_reason: str = "", witness_name: str = "",
                   witness_unit: str = "", media_ref: str = "", mail_no: str = "", note: str = "") -> ServiceRecord:
    """Check everything, then record the receipt with its number, locked."""
    require(ctx, "inspect")
    record = load_inspection(ctx, inspection_id)
    if record.status != "signed":
        raise InvalidInput(f"检查记录 {record.number} 尚未签名锁定，文书尚未出具，不能送达")
    name, number = _document(record, document, doc_name, doc_number)
    if method not in METHODS:
        raise InvalidInput(f"未知的送达方式“{method}”（可用：{'、'.join(METHODS)}）")
    fields = {"recipient": _text(recipient, "受送达人"), "place": _text(place, "送达地点"),
              "refusal_reason": _text(refusal_reason, "拒收理由"), "witness_name": _text(witness_name, "见证人"),
              "witness_unit": _text(witness_unit, "见证人单位"), "media_ref": _text(media_ref, "照片或录像"),
              "mail_no": _text(mail_no, "邮件号码"), "note": _text(note, "备注")}
    if not fields["recipient"]:
        raise InvalidInput("请填写受送达人")
    if not fields["place"]:
        raise InvalidInput("请填写送达地点（邮寄送达填写收件地址）")
    if method == LEFT:
        missing = [label for key, label in (("refusal_reason", "拒绝签收的理由"), ("witness_name", "见证人姓名"),
                                            ("witness_unit", "见证人单位"), ("media_ref", "拍照或录像的记录"))
                   if not fields[key]]
        if missing:
            raise InvalidInput(f"留置送达须写明{'、'.join(missing)}")
        if witness_name.strip() in {o.name for o in record.officers}:
            raise InvalidInput("见证人不能是送达的执法人员")
    elif fields["refusal_reason"] or fields["witness_name"]:
        raise InvalidInput(f"{method}不填拒收理由和见证人；受送达人拒绝签收的，请选“留置送达”")
    if method == "邮寄送达" and not fields["mail_no"]:
        raise InvalidInput("邮寄送达须填写邮件号码（挂号信或特快专递单号）")
    when = served_at or ctx.clock()
    content = {"document": {"kind": document, "name": name, "number": number}, "method": method,
               "served_at": when.isoformat(timespec="minutes"), "party": record.party.get("name", ""),
               "servers": [[o.name, o.cert_no] for o in record.officers], **fields}
    with ctx.transaction() as s:
        number_ = next_number(s, kind=FORM, prefix=ctx.setting("prefix.service"), year=when.year,
                              device_no=int(ctx.setting("device_no")))
        row = ServiceReceipt(device_id=ctx.device_id, number=number_, inspection_id=record.id, status="draft",
                             content_json=json.dumps(content, ensure_ascii=False),
                             created_by=ctx.user.name if ctx.user else "系统")
        s.add(row)
        s.flush()
        row.content_hash = _record(row).current_hash()
        row.status = "signed"
        s.flush()
        return _record(row)


def load_receipt(ctx: AppContext, id_or_number: str) -> ServiceRecord:
    with ctx.sessions() as s:
        row = s.get(ServiceReceipt, id_or_number) or s.query(ServiceReceipt).filter_by(
            number=id_or_number.strip()).one_or_none()
        if row is None:
            raise NotFound(f"没有送达回证 {id_or_number}")
        return _record(row)


def list_receipts(ctx: AppContext, inspection_id: str) -> list[ServiceRecord]:
    with ctx.sessions() as s:
        rows = s.query(ServiceReceipt).filter_by(inspection_id=inspection_id).order_by(ServiceReceipt.number).all()
        return [_record(r) for r in rows]
