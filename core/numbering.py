"""Document numbers: ``{prefix}〔{year}〕{seq}号`` (DOMAIN.md §3), with a device sub-number.

The sequence runs per document kind and year and is never reused (the counter only grows,
in the same transaction that uses the number). Numbers are unique across devices because
each device writes its own number in front of the sequence:

* the station (device 0): ``连市监药检〔2026〕12号``;
* laptop ``k`` (1–99): ``连市监药检〔2026〕3-0012号`` — the device number, a hyphen, the
  sequence with at least four digits (``3-12345号`` once a busy laptop passes 9999: there is
  no fixed block, so a device never runs out).

Before this format laptop ``k`` issued ``k*10000+n`` (``连市监药检〔2026〕30012号``); those
numbers stay valid and ``parse_number`` reads them (``legacy=True``). A number that is already
taken here (such an older laptop number, or one in the void register) is skipped, never issued twice.
"""
from __future__ import annotations

from dataclasses import dataclass
import re

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from db.models import CaseDocument, DocumentCounter, Inspection, Questioning, Rectification, ServiceReceipt, VoidedNumber

DEVICE_BLOCK = 10000  # the block size of the older format (device k issued k*10000+n)
SEQ_DIGITS = 4
KINDS = ("inspection", "rectification", "questioning", "service", "case_source", "case_filing", "evidence_hold",
         "evidence_release", "address_confirm")
_NUMBER = re.compile(r"(?P<prefix>.*)〔(?P<year>\d{4})〕(?:(?P<device>\d{1,2})-)?(?P<seq>\d+)号")


@dataclass(frozen=True)
class NumberParts:
    prefix: str
    year: int
    device_no: int
    seq: int
    legacy: bool = False  # written as k*10000+n by a laptop before the device sub-number


def format_number(prefix: str, year: int, seq: int, device_no: int = 0) -> str:
    if device_no == 0:
        return f"{prefix}〔{year}〕{seq}号"
    return f"{prefix}〔{year}〕{device_no}-{seq:0{SEQ_DIGITS}d}号"


def parse_number(text: str) -> NumberParts | None:
    """The parts of a document number, in either format; None if it is not one."""
    m = _NUMBER.fullmatch(text.strip())
    if m is None:
        return None
    prefix, year, seq = m["prefix"], int(m["year"]), int(m["seq"])
    if m["device"] is not None:
        return NumberParts(prefix, year, int(m["device"]), seq)
    if seq > DEVICE_BLOCK and seq % DEVICE_BLOCK:
        return NumberParts(prefix, year, seq // DEVICE_BLOCK, seq % DEVICE_BLOCK, legacy=True)
    return NumberParts(prefix, year, 0, seq)


def _taken(session: Session, number: str) -> bool:
    """Whether ``number`` is used here already: one query over the three unique number indexes."""
    query = union_all(*(select(model.id).where(model.number == number) for model in
                        (Inspection, Rectification, Questioning, ServiceReceipt, CaseDocument, VoidedNumber))).limit(1)
    return session.execute(query).first() is not None


def next_number(session: Session, *, kind: str, prefix: str, year: int, device_no: int) -> str:
    """Reserve the next number of ``kind`` for ``year`` inside the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    counter = session.get(DocumentCounter, (kind, year), with_for_update=True)
    if counter is None:
        counter = DocumentCounter(kind=kind, year=year, last_seq=0)
        session.add(counter)
    while True:
        counter.last_seq += 1
        number = format_number(prefix, year, counter.last_seq, device_no)
        with session.no_autoflush:
            if not _taken(session, number):
                break
    session.flush()
    return number


DOC_KIND_LABELS = {"inspection": "现场检查笔录", "rectification": "责令改正通知书", "questioning": "询问笔录",
                   "case_source": "案件来源登记表", "case_filing": "立案审批表", "evidence_hold": "先行登记保存证据通知书",
                   "evidence_release": "解除先行登记保存证据通知书", "address_confirm": "送达地址确认书"}


def register_void(session: Session, *, number: str, doc_kind: str, inspection_id: str | None, reason: str,
                  voided_by: str, voided_at, device_id: str) -> VoidedNumber:
    """Enter a number that will never be used in the void register (作废登记), in the caller's
    transaction: a number is never silently lost."""
    if doc_kind not in DOC_KIND_LABELS:
        raise ValueError(f"unknown document kind {doc_kind!r}")
    row = VoidedNumber(number=number, doc_kind=doc_kind, inspection_id=inspection_id, reason=reason.strip(),
                       voided_by=voided_by, voided_at=voided_at, device_id=device_id)
    session.add(row)
    return row
