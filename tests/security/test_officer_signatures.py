"""Officers' own signing keys (可靠电子签名): a record that no officer's key signed is refused.

The threat: a stolen, enrolled laptop holds a device key and can compute a correct content
hash for a record nobody signed. Only an officer's password opens their signing key, so the
station (and a laptop, and the hub: one import path) refuses what no officer's key signed.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import inspections as svc
from core import sync
from core.context import AppContext
from core.errors import InvalidInput, RecordLocked, WorkflowError
from core.officer_keys import keys_of
from core.printing import print_form
from core.users import list_users, set_active, set_password
from core.verification import make_payload, verify_payload
from db.models import OfficerKey, OfficerSignature
from tests.integration.helpers import (
    OFFICER_PASSWORD, answer_all, officer_passwords, ready_to_sign, register_officers, sign_all,
)
from tests.integration.pdfcheck import pdf_text
from tests.integration.test_sync import enrolled_laptop, pull_master_data
from tests.support import rawdb

JOINT = ("孙强", "41160099001")  # an officer from another county: on the list, no password, no key


@pytest.fixture
def pair(ctx, subject, tmp_path):
    """A station with its officers (with keys) and a joint officer (none), and a laptop with the master data."""
    register_officers(ctx)
    register_officers(ctx, [JOINT], password=None)
    laptop, _ = enrolled_laptop(ctx, tmp_path, "笔记本1")
    pull_master_data(ctx, laptop, tmp_path / "down")
    yield ctx, laptop, subject
    laptop.close()


def _inspect(laptop, subject_id, officers, *, sign=True) -> str:
    inspection_id = svc.start_inspection(laptop, subject_id, "cosmetics-531", [svc.OfficerData(*o) for o in officers])
    answer_all(laptop, inspection_id, {})
    svc.update_details(laptop, inspection_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(laptop, inspection_id)
    if sign:
        sign_all(laptop, inspection_id)
    return inspection_id


def _export(laptop, out) -> list:
    return sync.export_packages(laptop, out)


def _raw(ctx: AppContext, sql: str, *params) -> None:
    """What a thief does with the laptop's database file: plain SQL, no app in the way."""
    conn = rawdb.connect(ctx.engine.url.database)
    with conn:
        conn.execute(sql, params)
    conn.close()


OFFICERS = [("王建国", "41170021001"), ("李秀英", "41170021002")]


def test_two_officers_sign_and_the_station_names_them(pair, tmp_path):
    station, laptop, subject = pair
    inspection_id = _inspect(laptop, subject.id, OFFICERS)
    with laptop.sessions() as s:
        rows = list(s.scalars(select(OfficerSignature).where(OfficerSignature.inspection_id == inspection_id)))
    assert len(rows) == 2 and all(r.key_id and len(r.signature) == 128 for r in rows)
    [package] = _export(laptop, tmp_path / "up")
    sync.import_package(station, package)
    record = svc.load_inspection(station, inspection_id)
    verdict = verify_payload(station, make_payload(record, "record"))
    assert verdict.ok, verdict.message
    assert "执法人员密钥签名有效：王建国、李秀英" in verdict.message


@pytest.mark.parametrize("forgery", ["deleted", "drawn_only", "bad_signature", "other_officers_key"])
def test_a_correct_hash_without_a_valid_officer_signature_is_refused(pair, tmp_path, forgery):
    station, laptop, subject = pair
    inspection_id = _inspect(laptop, subject.id, OFFICERS)
    record = svc.load_inspection(laptop, inspection_id)
    assert record.current_hash() == record.content_hash  # the hash itself is right
    if forgery == "deleted":
        _raw(laptop, "DELETE FROM officer_signatures WHERE inspection_id = ?", inspection_id)
    elif forgery == "drawn_only":
        _raw(laptop, "UPDATE officer_signatures SET key_id = NULL, signature = NULL WHERE inspection_id = ?",
             inspection_id)
    elif forgery == "bad_signature":
        _raw(laptop, "UPDATE officer_signatures SET signature = ? WHERE inspection_id = ?", "ab" * 64, inspection_id)
    else:  # 王建国's signature put in 李秀英's place
        with laptop.sessions() as s:
            first = s.scalar(select(OfficerSignature).where(OfficerSignature.inspection_id == inspection_id,
                                                            OfficerSignature.position == 0))
            key_id, signature = first.key_id, first.signature
        _raw(laptop, "UPDATE officer_signatures SET key_id = ?, signature = ? WHERE inspection_id = ?",
             key_id, signature, inspection_id)
    [package] = _export(laptop, tmp_path / "up")
    with pytest.raises(InvalidInput) as refused:
        sync.import_package(station, package)
    assert "没有有效的执法人员密钥签名" in refused.value.message
    assert "\n" not in refused.value.message
    with station.sessions() as s:  # nothing written
        assert s.scalar(select(OfficerSignature.id).where(OfficerSignature.inspection_id == inspection_id)) is None
    # and the laptop's own verify says so too
    assert not verify_payload(laptop, make_payload(svc.load_inspection(laptop, inspection_id), "record")).ok


def test_a_revoked_key_signs_nothing_after_its_revocation(pair, tmp_path):
    station, laptop, subject = pair
    start = laptop.clock()
    laptop.clock = lambda: start + timedelta(hours=1)
    before = _inspect(laptop, subject.id, OFFICERS)
    [first] = _export(laptop, tmp_path / "up1")
    # the station resets 王建国's password (he forgot it): a new key, the old one revoked from now
    wang = next(u for u in list_users(station) if u.cert_no == OFFICERS[0][1])
    station.clock = lambda: start + timedelta(hours=2)
    set_password(station, wang.id, "new-password-2")
    keys = keys_of(station, wang.id)
    assert len(keys) == 2 and keys[0].revoked_at is None and keys[1].revoked_at == start + timedelta(hours=2)
    # the laptop has not synced since: it still signs with the old key, after the revocation
    laptop.clock = lambda: start + timedelta(hours=3)
    after = _inspect(laptop, subject.id, OFFICERS)
    sync.import_package(station, first)  # signed before the revocation: accepted
    assert verify_payload(station, make_payload(svc.load_inspection(station, before), "record")).ok
    [second] = _export(laptop, tmp_path / "up2")
    with pytest.raises(InvalidInput) as refused:
        sync.import_package(station, second)
    assert "不在有效期内" in refused.value.message and "王建国" in refused.value.message
    with station.sessions() as s:
        assert s.scalar(select(OfficerSignature.id).where(OfficerSignature.inspection_id == after)) is None
    # the old signature stays valid after the reset
    assert "王建国、李秀英" in verify_payload(station, make_payload(svc.load_inspection(station, before), "record")).message


def test_the_new_key_and_the_revocation_reach_the_laptop(pair, tmp_path):
    station, laptop, subject = pair
    wang = next(u for u in list_users(station) if u.cert_no == OFFICERS[0][1])
    set_password(station, wang.id, "new-password-2")
    pull_master_data(station, laptop, tmp_path / "down2")
    with laptop.sessions() as s:
        keys = {k.id: k for k in s.scalars(select(OfficerKey).where(OfficerKey.user_id == wang.id))}
    assert len(keys) == 2
    [new] = [k for k in keys.values() if k.revoked_at is None]
    assert new.wrapped_key and all(k.wrapped_key is None for k in keys.values() if k is not new)
    # on the laptop 王建国 now signs with the new password (the new key), not the old one
    inspection_id = _inspect(laptop, subject.id, OFFICERS, sign=False)
    ready_to_sign(laptop, inspection_id)
    passwords = officer_passwords(laptop, inspection_id)
    with pytest.raises(InvalidInput):
        svc.sign_inspection(laptop, inspection_id, passwords)
    svc.sign_inspection(laptop, inspection_id, {**passwords, OFFICERS[0][1]: "new-password-2"})
    with laptop.sessions() as s:
        used = s.scalar(select(OfficerSignature.key_id).where(OfficerSignature.inspection_id == inspection_id,
                                                              OfficerSignature.position == 0))
    assert used == new.id
    [package] = _export(laptop, tmp_path / "up")
    sync.import_package(station, package)
    assert verify_payload(station, make_payload(svc.load_inspection(station, inspection_id), "record")).ok


def test_a_wrong_or_missing_password_signs_nothing(ctx, subject, officers):
    register_officers(ctx)
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {})
    svc.update_details(ctx, inspection_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(ctx, inspection_id)
    ready_to_sign(ctx, inspection_id)
    good = {cert: OFFICER_PASSWORD for _, cert in OFFICERS}
    for passwords, needle in (({**good, OFFICERS[1][1]: "wrong-one"}, "执法人员李秀英的密码不正确"),
                              ({OFFICERS[0][1]: OFFICER_PASSWORD}, "请执法人员李秀英输入本人的登录密码")):
        with pytest.raises(InvalidInput) as refused:
            svc.sign_inspection(ctx, inspection_id, passwords)
        assert needle in refused.value.message
        assert svc.load_inspection(ctx, inspection_id).status == "completed"
    svc.sign_inspection(ctx, inspection_id, good)
    assert svc.load_inspection(ctx, inspection_id).status == "signed"


def test_a_joint_inspection_officer_signs_by_hand_and_the_record_says_so(pair, tmp_path):
    station, laptop, subject = pair
    inspection_id = _inspect(laptop, subject.id, [OFFICERS[0], JOINT])
    [package] = _export(laptop, tmp_path / "up")
    sync.import_package(station, package)
    record = svc.load_inspection(station, inspection_id)
    verdict = verify_payload(station, make_payload(record, "record"))
    assert verdict.ok, verdict.message
    assert "执法人员密钥签名有效：王建国" in verdict.message
    assert "仅手写签名（外单位执法人员，本所无其签名密钥）：孙强" in verdict.message
    text = "".join(pdf_text(print_form(station, inspection_id, "record", tmp_path / "笔录.pdf")).split())
    assert "仅手写签名" in text and "孙强" in text


def test_only_joint_officers_cannot_sign_here(ctx, subject):
    register_officers(ctx, [JOINT, ("周平", "41160099002")], password=None)
    officers = [svc.OfficerData(*JOINT), svc.OfficerData("周平", "41160099002")]
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {})
    svc.update_details(ctx, inspection_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(ctx, inspection_id)
    ready_to_sign(ctx, inspection_id)
    with pytest.raises(WorkflowError) as refused:
        svc.sign_inspection(ctx, inspection_id, {})
    assert "至少一名本所执法人员须用本人密码签名" in refused.value.message
    assert svc.load_inspection(ctx, inspection_id).status == "completed"


def test_password_change_rewraps_and_a_reset_or_leaving_keeps_old_signatures_valid(ctx, subject, officers):
    register_officers(ctx)
    wang = next(u for u in list_users(ctx) if u.cert_no == OFFICERS[0][1])
    [key] = keys_of(ctx, wang.id)
    ctx.user = wang
    set_password(ctx, wang.id, "changed-by-me", old_password=OFFICER_PASSWORD)  # the officer, knowing the old one
    ctx.user = None
    [same] = keys_of(ctx, wang.id)
    assert same.id == key.id and same.revoked_at is None
    with pytest.raises(InvalidInput):
        set_password(ctx, wang.id, "again-123", old_password="not-the-old-one")
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {})
    svc.update_details(ctx, inspection_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(ctx, inspection_id)
    ready_to_sign(ctx, inspection_id)
    svc.sign_inspection(ctx, inspection_id, {OFFICERS[0][1]: "changed-by-me", OFFICERS[1][1]: OFFICER_PASSWORD})
    payload = make_payload(svc.load_inspection(ctx, inspection_id), "record")
    li = next(u for u in list_users(ctx) if u.cert_no == OFFICERS[1][1])
    later = ctx.clock() + timedelta(minutes=1)
    ctx.clock = lambda: later
    set_active(ctx, li.id, False)  # 李秀英 leaves: her key signs nothing new
    [revoked] = keys_of(ctx, li.id)
    assert revoked.revoked_at is not None and not revoked.here
    verdict = verify_payload(ctx, payload)
    assert verdict.ok and "王建国、李秀英" in verdict.message, verdict.message


def test_an_old_record_signed_before_officers_had_keys_verifies_as_such(ctx, subject, officers):
    from tests.integration.helpers import signed_inspection

    inspection_id = signed_inspection(ctx, subject.id, officers)
    with pytest.raises(RecordLocked), ctx.transaction() as s:  # the app does not let them go
        for row in s.scalars(select(OfficerSignature).where(OfficerSignature.inspection_id == inspection_id)):
            s.delete(row)
    # as a record signed before the upgrade carries none
    _raw(ctx, "DELETE FROM officer_signatures WHERE inspection_id = ?", inspection_id)
    payload = make_payload(svc.load_inspection(ctx, inspection_id), "record")
    verdict = verify_payload(ctx, payload)
    assert not verdict.ok and "执法人员王建国没有签名" in verdict.message
    ctx.set_setting("officer_keys.since", (ctx.clock() + timedelta(days=1)).isoformat())  # upgraded after it
    verdict = verify_payload(ctx, payload)
    assert verdict.ok and "签名前的旧记录" in verdict.message, verdict.message


def test_cli_lists_and_revokes_an_officers_key(ctx, capsys):
    import main

    register_officers(ctx)
    db = ctx.engine.url.database
    assert main.main(["users", "keys", "--db", db, "--name", "王建国", "--json"]) == 0
    import json
    [key] = json.loads(capsys.readouterr().out)
    assert key["revoked_at"] is None and key["here"] is True and len(key["public_key"]) == 64
    assert main.main(["users", "revoke-key", "--db", db, "--name", "王建国"]) == 0
    assert "已停用执法人员王建国的签名密钥" in capsys.readouterr().out
    assert main.main(["users", "revoke-key", "--db", db, "--name", "王建国"]) == 2
    assert capsys.readouterr().err.strip() == "错误：执法人员王建国没有有效的签名密钥"
    assert main.main(["users", "keys", "--db", db, "--name", "无此人"]) == 2
    assert capsys.readouterr().err.strip() == "错误：没有名为“无此人”的执法人员"
    wang = next(u for u in list_users(ctx) if u.name == "王建国")
    [revoked] = keys_of(ctx, wang.id)
    assert revoked.revoked_at is not None and not revoked.here
