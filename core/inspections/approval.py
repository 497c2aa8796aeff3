"""What a station admin approves on a correction (更正), and whether a correction may be signed.

Here, beside the workflow that signs, so that signing checks it without importing
``core.corrections`` (which builds on this package)."""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.inspections.records import canonical, record_of
from db.models import Correction, Inspection

if TYPE_CHECKING:
    from core.context import AppContext


def approval_hash(ctx: AppContext, inspection: Inspection) -> str:
    """What the admin approves: the record's canonical form without signatures and signing time."""
    content = canonical(record_of(ctx, inspection))
    content.pop("signatures", None)
    content.pop("signed_at", None)
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
