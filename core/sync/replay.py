"""The hub's memory of the signed requests it accepted, in the station's database.

A request is accepted at most once: its signature (the decoded bytes, so changing the hex
case or adding spaces does not make it new) and its nonce (per device) are recorded in
``hub_requests`` when it is accepted, and a second request with either is a replay. The
record survives a restart of the hub. Requests older than the clock window are refused
for their age anyway, so their entries are purged.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from db.models import HubRequest

if TYPE_CHECKING:
    from core.context import AppContext


def claim_request(ctx: AppContext, device_id: str, nonce: str, signature: bytes, timestamp: int, *,
                  now: float, window: int) -> bool:
    """Record an authenticated request; False if it (its signature or its nonce) was seen before.

    ``now`` and ``window`` (seconds): entries whose timestamp is more than ``window`` before
    ``now`` are purged in the same transaction. A refused replay writes nothing.
    """
    digest = hashlib.sha256(signature).hexdigest()
    with ctx.sessions() as s:
        seen = s.scalar(select(HubRequest.signature_sha256).where(or_(
            HubRequest.signature_sha256 == digest,
            (HubRequest.device_id == device_id) & (HubRequest.nonce == nonce))).limit(1))
    if seen is not None:
        return False
    try:
        with ctx.transaction() as s:
            s.execute(delete(HubRequest).where(HubRequest.request_time < int(now) - window))
            # Core statements: bookkeeping of the transport, not records (no audit entry per request)
            s.execute(insert(HubRequest.__table__), [{"signature_sha256": digest, "device_id": device_id,
                                                      "nonce": nonce, "request_time": timestamp}])
    except IntegrityError:  # the same request at the same moment on another connection
        return False
    return True
