"""Verifying a scanned payload: match, tampered payload, altered database, unknown, draft."""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import sqlite3

import pytest

from core import inspections as svc
from core.verification import make_payload, verify_payload
from tests.integration.helpers import signed_inspection


def test_matching_payload_verifies(ctx, subject, officers):
    record = svc.load_inspection(ctx, signed_inspection(ctx, subject.id, officers))
    verdict = verify_payload(ctx, make_payload(record, "record"))
    assert verdict.ok and record.number in verdict.message


def test_tampered_payloads_are_refused(ctx, subject, officers):
    record = svc.load_inspection(ctx, signed_inspection(ctx, subject.id, officers))
    good = make_payload(record, "rectification")
    prefix, form, rid, number, short = good.split("|")
    flipped = short[:-1] + ("0" if short[-1] != "0" else "1")
    for bad in (
        "|".join((prefix, form, rid, number, flipped)),
        "|".join((prefix, form, rid, record.number, short)),  # another form's number
        "|".join((prefix, form, "00000000-0000-0000-0000-000000000000", number, short)),
        "hello",
        "",
    ):
        assert not verify_payload(ctx, bad).ok, bad


def test_record_altered_in_the_database_file_is_detected(ctx, subject, officers):
    record = svc.load_inspection(ctx, signed_inspection(ctx, subject.id, officers))
    payload = make_payload(record, "record")
    raw = rawdb.connect(ctx.engine.url.database)
    with pytest.raises(rawdb.IntegrityError, match="signed-record lock"):  # the database's own lock
        raw.execute("UPDATE item_results SET result='pass' WHERE inspection_id=? AND result='fail'", (record.id,))
    raw.rollback()
    # someone with the file can drop the lock's triggers; the content hash still tells
    for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'signed_lock_%'"
                               ).fetchall():
        raw.execute(f"DROP TRIGGER {name}")
    raw.execute("UPDATE item_results SET result='pass' WHERE inspection_id=? AND result='fail'", (record.id,))
    raw.commit()
    raw.close()
    verdict = verify_payload(ctx, payload)
    assert not verdict.ok and "改动" in verdict.message


def test_draft_is_not_verified(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    verdict = verify_payload(ctx, make_payload(svc.load_inspection(ctx, inspection_id), "record"))
    assert not verdict.ok and "尚未签名" in verdict.message


def test_payload_is_ascii_for_keyboard_scanners_and_plain_number_also_accepted(ctx, subject, officers):
    record = svc.load_inspection(ctx, signed_inspection(ctx, subject.id, officers))
    payload = make_payload(record, "record")
    assert payload.isascii()
    prefix, form, rid, _number, short = payload.split("|")
    assert verify_payload(ctx, "|".join((prefix, form, rid, record.number, short))).ok
