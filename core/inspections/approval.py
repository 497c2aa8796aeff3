"""What a station admin approves on a correction (更正), and whether a correction may be signed.

Here, beside the workflow that signs, so that signing checks it without importing
``core.corrections`` (which builds on this package)."""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.inspections.records import _canonical_v1, record_of
from db.models import Correction, Inspection

if TYPE_CHECKING:
    from core.context import AppContext


# What the signing itself records — the party's confirmation or refusal, the witness, paper
# mode, the canonical version: not part of what the admin approves, asked again at signing.
SIGNING_FACTS = ("confirmation", "wet", "canonical", "refusal_reason", "order_refused", "order_refusal_reason",
                 "witness_id", "witness_phone")


def approval_hash(ctx: AppContext, inspection: Inspection) -> str:
    """What the admin approves: the record's content without signatures, signing time and the
    facts of the signing itself (``SIGNING_FACTS``) — the same before and after signing."""
    record = record_of(ctx, inspection)
    content = _canonical_v1(record)
    content.pop("signatures", None)
    for key in ("signed_at", "party_refused", "witness_name"):
        content.pop(key, None)
    content["legal"] = {k: v for k, v in sorted(record.legal.items()) if k not in SIGNING_FACTS}
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def correction_problems(ctx: AppContext, session: Session, inspection: Inspection) -> list[str]:
    """Why a correction cannot be signed yet (empty for an approved one, or for a record that corrects nothing)."""
    link = session.scalar(select(Correction).where(Correction.inspection_id == inspection.id))
    if link is None:
        return []
    if link.approved_at is None:
        return ["更正须经站所管理员批准后才能签名锁定"]
    if link.approved_hash != approval_hash(ctx, inspection):
        return ["更正内容在批准后又有改动，须经站所管理员重新批准"]
    return []
