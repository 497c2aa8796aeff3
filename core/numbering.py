"""Document numbers: ``{prefix}〔{year}〕{seq}号`` (DOMAIN.md §3).

The sequence runs per document kind and year, is never reused (the counter only
grows, in the same transaction that uses the number) and is unique across devices:
device ``k`` issues ``k*10000+1``, ``k*10000+2``... so laptops working offline never collide.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from core.errors import WorkflowError
from db.models import DocumentCounter

DEVICE_BLOCK = 10000
KINDS = ("inspection", "rectification")


def format_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}〔{year}〕{seq}号"


def next_number(session: Session, *, kind: str, prefix: str, year: int, device_no: int) -> str:
    """Reserve the next number of ``kind`` for ``year`` inside the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    counter = session.get(DocumentCounter, (kind, year), with_for_update=True)
    if counter is None:
        counter = DocumentCounter(kind=kind, year=year, last_seq=0)
        session.add(counter)
    counter.last_seq += 1
    if counter.last_seq >= DEVICE_BLOCK:
        raise WorkflowError(f"本设备{year}年的文书编号已用完，请联系所里分配新的设备号")
    session.flush()
    return format_number(prefix, year, device_no * DEVICE_BLOCK + counter.last_seq)
