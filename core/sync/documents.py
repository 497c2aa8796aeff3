"""One-row documents in a package (询问笔录, 送达回证, case papers): hostile until checked.

``validate`` checks each column (type, length, UUIDs, status values); a document row also
holds JSON texts that the app reads back — ``content_json`` (and a 询问笔录's
``signatures_json``). ``check_records`` parses them and checks their shape, key by key and
value by value, as the services that wrote them would have: a package whose 询问笔录 has an
answer that is a number, a signature that is not a PNG, an unknown field or a NaN is refused
whole, with one Chinese line naming the record and the field.

``prove_documents`` (inside the import transaction): a document arriving ``signed`` that is
not signed here must recompute its ``content_hash`` from its own content, carry every
signature a 询问笔录 needs, and name only officers on this database's 执法人员名录 (the rule
``core.sync.signed`` applies to inspections). A document signed here is never overwritten
(``apply``; the triggers of ``db.document_lock`` hold the same below the ORM).
"""
from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.casework.kinds import content_hash as case_hash
from core.errors import InvalidInput
from core.questioning import DETAIL_FIELDS, PERSON_FIELDS, _record as questioning_record, signature_roles
from core.service_receipts import METHODS, _record as receipt_record
from core.sync.devices import role, sender_kind
from core.sync.signed import _roster
from core.sync.spec import TABLE_LABELS
from core.sync.validate import NonFinite, SCHEMAS, kind_of, loads, refuse, shown
from db.models import CaseDocument, Questioning, ServiceReceipt

if TYPE_CHECKING:
    from core.context import AppContext
    from core.sync.package import Package

TEXT = 4000  # a typed field (the services' own limit)
MAX_QA = 2000
MAX_OFFICERS = 20
SIGNATURE_ROLE = re.compile(r"(person|officer[1-9][0-9]?)\Z")
RECEIPT_FIELDS = ("recipient", "place", "refusal_reason", "witness_name", "witness_unit", "media_ref", "mail_no",
                  "note", "party")
MODELS = {"questionings": Questioning, "service_receipts": ServiceReceipt, "case_documents": CaseDocument}


class Wrong(Exception):
    """(field path, what is wrong): the first problem of a document's JSON."""


def _str(value: Any, where: str, limit: int = TEXT) -> str:
    if type(value) is not str:
        raise Wrong(where, f"应为文本，收到{kind_of(value)}")
    if len(value) > limit:
        raise Wrong(where, f"超过 {limit:,} 个字符")
    return value


def _dict(value: Any, where: str, allowed=None) -> dict:
    if type(value) is not dict:
        raise Wrong(where, f"应为 JSON 对象，收到{kind_of(value)}")
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise Wrong(f"{where}.{shown(str(unknown[0]), 30)}", "不是该文书的项目（未知字段，已拒绝）")
    return value


def _list(value: Any, where: str, limit: int) -> list:
    if type(value) is not list:
        raise Wrong(where, f"应为数组，收到{kind_of(value)}")
    if len(value) > limit:
        raise Wrong(where, f"超过 {limit} 项")
    return value


def _time(value: Any, where: str, *, empty: bool = True) -> None:
    _str(value, where, 32)
    if value == "" and empty:
        return
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Wrong(where, f"不是有效的 ISO 日期时间（“{shown(value, 32)}”）") from None
    if parsed.tzinfo is not None:
        raise Wrong(where, "不应带时区")


def _officers(value: Any, where: str) -> None:
    for i, pair in enumerate(_list(value, where, MAX_OFFICERS)):
        if type(pair) is not list or len(pair) != 2:
            raise Wrong(f"{where}[{i}]", "应为 [姓名, 执法证号]")
        _str(pair[0], f"{where}[{i}]", 64)
        _str(pair[1], f"{where}[{i}]", 64)


def _flat(value: Any, where: str, keys, limit: int = TEXT) -> None:
    for key, text in _dict(value, where, keys).items():
        _str(text, f"{where}.{key}", limit)


def _plain(value: Any, where: str, depth: int = 0) -> None:
    """Plain JSON of bounded size: texts, integers, finite numbers, booleans, null, lists, objects."""
    if depth > 6:
        raise Wrong(where, "嵌套过深")
    if value is None or type(value) in (bool, int, float):
        return
    if isinstance(value, NonFinite):
        raise Wrong(where, f"含非有限数值 {value.text}")
    if type(value) is str:
        _str(value, where, 20_000)
    elif type(value) is list:
        for i, item in enumerate(_list(value, where, 1000)):
            _plain(item, f"{where}[{i}]", depth + 1)
    elif type(value) is dict:
        if len(value) > 200:
            raise Wrong(where, "项目过多")
        for key, item in value.items():
            _plain(item, f"{where}.{shown(str(key), 30)}", depth + 1)
    else:  # pragma: no cover - json gives nothing else
        raise Wrong(where, f"不支持的值（{kind_of(value)}）")


def _parsed(record: dict, column: str) -> Any:
    try:
        return loads(record[column])
    except ValueError:
        raise Wrong(column, "不是有效的 JSON") from None


def _questioning(record: dict) -> None:
    content = _dict(_parsed(record, "content_json"), "content_json",
                    ("person", "qa", "details", "party", "officers", "inspection_number"))
    _flat(content.get("person", {}), "content_json.person", PERSON_FIELDS)
    for i, qa in enumerate(_list(content.get("qa", []), "content_json.qa", MAX_QA)):
        item = _dict(qa, f"content_json.qa[{i}]", ("q", "a"))
        if set(item) != {"q", "a"}:
            raise Wrong(f"content_json.qa[{i}]", "应有问（q）和答（a）")
        _str(item["q"], f"content_json.qa[{i}].q")
        _str(item["a"], f"content_json.qa[{i}].a")
    details = content.get("details", {})
    _flat(details, "content_json.details", DETAIL_FIELDS)
    for key in ("started_at", "ended_at"):
        if key in details:
            _time(details[key], f"content_json.details.{key}")
    _flat(content.get("party", {}), "content_json.party", None, 500)
    _officers(content.get("officers", []), "content_json.officers")
    _str(content.get("inspection_number", ""), "content_json.inspection_number", 64)
    signatures = _dict(_parsed(record, "signatures_json"), "signatures_json")
    for key, value in signatures.items():
        where = f"signatures_json.{shown(str(key), 20)}"
        if SIGNATURE_ROLE.match(key) is None:
            raise Wrong(where, "不是询问笔录的签名位置")
        sig = _dict(value, where, ("name", "signed_at", "png"))
        if set(sig) != {"name", "signed_at", "png"}:
            raise Wrong(where, "应有签名人（name）、时间（signed_at）和图像（png）")
        _str(sig["name"], f"{where}.name", 64)
        if sig["signed_at"] is not None:
            _time(sig["signed_at"], f"{where}.signed_at", empty=False)
        try:
            png = base64.b64decode(_str(sig["png"], f"{where}.png", 1_000_000), validate=True)
        except binascii.Error:
            raise Wrong(f"{where}.png", "不是有效的 base64") from None
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise Wrong(f"{where}.png", "不是 PNG 图像")


def _receipt(record: dict) -> None:
    content = _dict(_parsed(record, "content_json"), "content_json",
                    ("document", "method", "served_at", "servers", *RECEIPT_FIELDS))
    missing = sorted({"document", "method", "served_at", "recipient", "place"} - set(content))
    if missing:
        raise Wrong(f"content_json.{missing[0]}", "缺失（该项必填）")
    doc = _dict(content["document"], "content_json.document", ("kind", "name", "number"))
    if doc.get("kind") not in ("rectification", "record", "other"):
        raise Wrong("content_json.document.kind", "不是可送达的文书种类")
    _str(doc.get("name"), "content_json.document.name", 64)
    _str(doc.get("number"), "content_json.document.number", 64)
    if content["method"] not in METHODS:
        raise Wrong("content_json.method", f"取值不在允许范围内（可用：{'、'.join(METHODS)}）")
    _time(content["served_at"], "content_json.served_at", empty=False)
    _officers(content.get("servers", []), "content_json.servers")
    for key in RECEIPT_FIELDS:
        if key in content:
            _str(content[key], f"content_json.{key}", 500)


def _case(record: dict) -> None:
    content = _dict(_parsed(record, "content_json"), "content_json")
    _plain(content, "content_json")
    if "officers" in content:
        _officers(content["officers"], "content_json.officers")


CHECKS = {"questionings": _questioning, "service_receipts": _receipt, "case_documents": _case}


def check_records(package: str, table: str, records: list) -> None:
    """The JSON of every document record of one table; ``InvalidInput`` on the first problem."""
    check = CHECKS[table]
    for number, record in enumerate(records, 1):
        try:
            check(record)
        except Wrong as wrong:
            field, what = wrong.args
            raise refuse(package, table, record, number, field, what) from None
        if record.get("status") == "signed" and record.get("content_hash") is None:
            raise refuse(package, table, record, number, "content_hash", "已签名的文书缺少内容摘要")


def _recomputed(table: str, row: dict) -> str:
    if table == "questionings":
        return questioning_record(Questioning(**row)).current_hash()
    if table == "service_receipts":
        return receipt_record(ServiceReceipt(**row)).current_hash()
    return case_hash(row["number"], row["kind"], row["inspection_id"], row["parent_id"], loads(row["content_json"]))


def prove_documents(ctx: AppContext, session: Session, pkg: Package) -> None:
    """Refuse the package unless every document it brings as newly signed proves its content (above)."""
    name = shown(pkg.path.name, 120)
    station = role(ctx) == "station" and sender_kind(ctx, pkg.manifest["device_id"]) == "laptop"
    roster = None
    for table, model in MODELS.items():
        incoming = [SCHEMAS[table].complete(r) for r in pkg.records.get(table, ()) if r["status"] == "signed"]
        if not incoming:
            continue
        here = dict(session.execute(select(model.id, model.status).where(model.id.in_([r["id"] for r in incoming]))).all())
        for row in incoming:
            if here.get(row["id"]) == "signed":
                continue  # signed here already: never overwritten, needs no proof
            label = f"同步包 {name} 已拒绝：{TABLE_LABELS[table]} {shown(row['number'], 64)} 标为已签名，但"
            if _recomputed(table, row) != row["content_hash"]:
                raise InvalidInput(f"{label}其内容摘要与文书内容不符（文书被改动或伪造），未导入任何内容")
            officers: list = []
            if table == "questionings":
                record = questioning_record(Questioning(**row))
                missing = [r for r in signature_roles(record) if r not in record.signatures]
                if missing:
                    raise InvalidInput(f"{label}缺少签名：{'、'.join(missing)}")
                officers = [(o.name, o.cert_no) for o in record.officers]
            elif table == "service_receipts":
                officers = [tuple(o) for o in loads(row["content_json"]).get("servers", [])]
            if officers and roster is None:
                roster = _roster(session, pkg, with_package=not station)
            for officer_name, cert in officers:
                known = roster.get(cert) if cert else None
                if known is None or (station and not known):
                    raise InvalidInput(f"{label}执法人员“{shown(officer_name, 32)}”（执法证号 {shown(cert, 32) or '无'}）"
                                       "不在本所执法人员名录中，未导入任何内容")
