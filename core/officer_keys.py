"""Officers' own signing keys (可靠电子签名, 《电子签名法》第十三条) and their signatures of inspections.

Each officer (an inspector with 执法证号 and a password) has an Ed25519 key pair made at the
station; the private half is wrapped by the officer's password (``core.keywrap``, the
associated data binding user id and key id), so only the officer, typing the password on
the laptop, can sign with it. Signing an inspection signs its content hash with the key of
each officer present (``signing_message``); an officer with no key here (a joint
inspection's officer from elsewhere) signs by drawn signature only, and the record says so.

A key is never deleted. A password reset by the admin (who does not know the old password),
an officer who leaves, a lost key: the current key is revoked for new signatures
(``revoked_at``) and, for a reset, a new one made; a signature holds when it was made while
its key was valid (``valid_from`` ≤ the record's signing time < ``revoked_at``).

Records signed before officers had keys (before the upgrade that made this table: the
setting ``officer_keys.since``) carry no officer signatures: they verify as "签名前的旧记录".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import json
from typing import TYPE_CHECKING, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.keywrap import WrapError, unwrap_with_password, wrap_with_password
from core.signing import new_key_pair, sign, signature_hex_ok
from db.bulk import chunks
from db.models import OfficerKey, OfficerSignature, User, new_uuid

if TYPE_CHECKING:
    from core.context import AppContext

SINCE = "officer_keys.since"
MESSAGE_PREFIX = "YXJC-OFFICER-SIG1"
DRAWN_ONLY = "仅手写签名（外单位执法人员，本所无其签名密钥）"


def _aad(user_id: str, key_id: str) -> bytes:
    return f"yxjc officer signing key v1|{user_id}|{key_id}".encode("utf-8")


def signing_message(content_hash: str, inspection_id: str, position: int, cert_no: str, user_id: str,
                    key_id: str) -> bytes:
    """What an officer's key signs: the record's content hash, which record and officer, which key."""
    return "|".join((MESSAGE_PREFIX, content_hash, inspection_id, str(position), cert_no, user_id,
                     key_id)).encode("utf-8")


# --- the station's side: making, rewrapping and revoking keys -------------------------------------

def current_key(session: Session, user_id: str) -> OfficerKey | None:
    """The officer's key for new signatures (not revoked), or None."""
    return session.scalar(select(OfficerKey).where(OfficerKey.user_id == user_id, OfficerKey.revoked_at.is_(None))
                          .order_by(OfficerKey.valid_from.desc()).limit(1))


def make_key(session: Session, user: User, password: str, *, now: datetime, device_id: str) -> OfficerKey:
    """A new key pair for ``user``, wrapped by ``password``; any current key is revoked first."""
    revoke_keys(session, user.id, now=now)
    private, public = new_key_pair()
    key = OfficerKey(id=new_uuid(), user_id=user.id, cert_no=user.cert_no or "", public_key=public, valid_from=now,
                     device_id=device_id)
    key.wrapped_key = json.dumps(wrap_with_password(bytes.fromhex(private), password, aad=_aad(user.id, key.id)))
    session.add(key)
    return key


def rewrap_key(session: Session, user: User, old_password: str, new_password: str, *, now: datetime,
               device_id: str) -> OfficerKey:
    """The officer set a new password knowing the old one: the same key, wrapped anew (old
    signatures and the key's validity unchanged). Without a key that opens with the old
    password (none yet, or wrapped elsewhere), a new key."""
    key = current_key(session, user.id)
    if key is not None and key.wrapped_key:
        try:
            private = unwrap_with_password(json.loads(key.wrapped_key), old_password, aad=_aad(user.id, key.id))
        except (WrapError, ValueError):
            private = None
        if private is not None:
            key.wrapped_key = json.dumps(wrap_with_password(private, new_password, aad=_aad(user.id, key.id)))
            return key
    return make_key(session, user, new_password, now=now, device_id=device_id)


def revoke_keys(session: Session, user_id: str, *, now: datetime) -> int:
    """Revoke the officer's current key(s) for new signatures; the wrapped private key is dropped."""
    keys = list(session.scalars(select(OfficerKey).where(OfficerKey.user_id == user_id,
                                                         OfficerKey.revoked_at.is_(None))))
    for key in keys:
        key.revoked_at, key.wrapped_key = max(now, key.valid_from), None
    return len(keys)


@dataclass(frozen=True)
class KeyRow:
    id: str
    public_key: str
    valid_from: datetime
    revoked_at: datetime | None
    here: bool  # the wrapped private key is on this database (the officer can sign here)

    @property
    def fingerprint(self) -> str:
        return self.public_key[:16]

    @property
    def state_label(self) -> str:
        return "有效" if self.revoked_at is None else f"已于 {self.revoked_at:%Y-%m-%d %H:%M} 停用"


def officer_by_name(ctx: AppContext, name: str) -> str:
    """The id of the officer (inspector) called ``name``; ``InvalidInput`` if there is none."""
    with ctx.sessions() as s:
        user_id = s.scalar(select(User.id).where(User.name == name.strip(), User.role == "inspector"))
    if user_id is None:
        raise InvalidInput(f"没有名为“{name.strip()}”的执法人员")
    return user_id


def keys_of(ctx: AppContext, user_id: str) -> list[KeyRow]:
    """Every key the officer ever had, newest first (the admin's users dialog, ``users keys``)."""
    with ctx.sessions() as s:
        rows = s.scalars(select(OfficerKey).where(OfficerKey.user_id == user_id).order_by(OfficerKey.valid_from.desc()))
        return [KeyRow(k.id, k.public_key, k.valid_from, k.revoked_at, bool(k.wrapped_key)) for k in rows]


# --- signing on the laptop ------------------------------------------------------------------------

@dataclass(frozen=True)
class Signer:
    """An officer of a record, as the signing step asks them."""

    position: int
    name: str
    cert_no: str
    has_key: bool  # has a key here: must enter their password; otherwise drawn signature only


def signers_of(session: Session, officers: Iterable) -> list[Signer]:
    """The officers of a record (``OfficerData`` in position order) and whether each has a key here."""
    officers = list(officers)
    certs = [o.cert_no for o in officers if o.cert_no]
    keyed = set(session.scalars(select(OfficerKey.cert_no).join(User, OfficerKey.user_id == User.id).where(
        OfficerKey.cert_no.in_(certs), User.role == "inspector", OfficerKey.revoked_at.is_(None)))) if certs else set()
    return [Signer(i, o.name, o.cert_no, bool(o.cert_no) and o.cert_no in keyed) for i, o in enumerate(officers)]


def unlock_signers(session: Session, signers: list[Signer], passwords: Mapping[str, str]) -> dict[int, tuple]:
    """position → (user id, key id, private hex) for each officer with a key, opened with the
    password they entered (``passwords`` by 执法证号). Refused, naming the officer, on a missing
    or wrong password or a key that is not on this laptop. Costs one scrypt (≈ 70 ms) each."""
    opened: dict[int, tuple] = {}
    for signer in signers:
        if not signer.has_key:
            continue
        user = session.scalar(select(User).where(User.cert_no == signer.cert_no, User.role == "inspector"))
        key = current_key(session, user.id) if user is not None else None
        who = f"执法人员{signer.name}"
        if user is None or key is None:
            continue
        if not user.active:
            raise InvalidInput(f"{who}已停用，不能再签名")
        if not key.wrapped_key:
            raise InvalidInput(f"{who}的签名密钥不在本机（请先从站所同步，或由本人在站所设置密码）")
        password = passwords.get(signer.cert_no)
        if not password:
            raise InvalidInput(f"请{who}输入本人的登录密码以签名")
        try:
            private = unwrap_with_password(json.loads(key.wrapped_key), password, aad=_aad(user.id, key.id))
        except (WrapError, ValueError):
            raise InvalidInput(f"{who}的密码不正确，未签名") from None
        opened[signer.position] = (user.id, key.id, private.hex())
    return opened


def sign_record(session: Session, inspection, signers: list[Signer], opened: dict[int, tuple], *,
                device_id: str) -> None:
    """Store each officer's signature of the locked ``inspection`` (its content hash is set)."""
    for signer in signers:
        row = OfficerSignature(device_id=device_id, inspection_id=inspection.id, position=signer.position,
                               cert_no=signer.cert_no, signed_at=inspection.signed_at)
        if signer.position in opened:
            user_id, key_id, private = opened[signer.position]
            message = signing_message(inspection.content_hash, inspection.id, signer.position, signer.cert_no,
                                      user_id, key_id)
            row.key_id, row.signature = key_id, sign(private, message).hex()
        session.add(row)


# --- verification (verify, QR, every import) -------------------------------------------------------

@dataclass(frozen=True)
class PublicKey:
    user_id: str
    cert_no: str
    public_key: str
    valid_from: datetime
    revoked_at: datetime | None

    def valid_at(self, when: datetime) -> bool:
        return self.valid_from <= when and (self.revoked_at is None or when < self.revoked_at)


def _public(row: dict) -> PublicKey:
    return PublicKey(row["user_id"], row["cert_no"], row["public_key"], row["valid_from"], row["revoked_at"])


def public_keys(session: Session, key_ids: Iterable[str] | None = None) -> dict[str, PublicKey]:
    """key id → its public key: those of ``key_ids``, in batches, or every key here (a station
    has tens of officers, each with a few keys: one query for a whole import)."""
    columns = (OfficerKey.id, OfficerKey.user_id, OfficerKey.cert_no, OfficerKey.public_key, OfficerKey.valid_from,
               OfficerKey.revoked_at)
    if key_ids is None:
        return {r.id: _public(r._mapping) for r in session.execute(select(*columns))}
    out: dict[str, PublicKey] = {}
    for chunk in chunks(sorted(set(key_ids))):
        out.update((r.id, _public(r._mapping)) for r in session.execute(select(*columns).where(OfficerKey.id.in_(chunk))))
    return out


def package_keys(records: Iterable[dict]) -> dict[str, PublicKey]:
    """The public keys a package brings (officer_keys records, checked and completed)."""
    def when(value):
        return None if value is None else datetime.fromisoformat(value)
    return {r["id"]: PublicKey(r["user_id"], r["cert_no"], r["public_key"], when(r["valid_from"]),
                               when(r["revoked_at"])) for r in records}


@dataclass(frozen=True)
class Check:
    """What the officers' signatures of one signed record say."""

    held: list[str]        # names of the officers whose key signature holds
    drawn_only: list[str]  # names of officers who signed by drawn signature only
    problems: list[str]    # why a signature does not hold (empty when all hold)
    legacy: bool = False   # signed before officers had keys (no officer signatures at all)

    @property
    def ok(self) -> bool:
        return not self.problems and (self.legacy or bool(self.held))


def check_signatures(record_id: str, content_hash: str, signed_at: datetime, officers: list, rows: list[dict],
                     keys: Mapping[str, PublicKey], *, legacy_before: datetime | None = None) -> Check:
    """Check one record's officer signatures (``rows``: officer_signatures as dicts) against
    ``keys`` (every key known here: a drawn-only signature of an officer who had a valid key
    is refused). Each officer of the record needs a row: a key signature that verifies, by a key
    of that officer valid at ``signed_at``, or drawn-only. At least one must be a key signature."""
    by_position = {r["position"]: r for r in rows}
    held, drawn, problems = [], [], []
    if not rows and legacy_before is not None and signed_at < legacy_before:
        return Check([], [], [], legacy=True)
    if len(by_position) != len(rows) or set(by_position) - set(range(len(officers))):
        problems.append("执法人员签名与执法人员不对应")
    for position, officer in enumerate(officers):
        row = by_position.get(position)
        who = f"执法人员{officer.name}"
        if row is None:
            problems.append(f"{who}没有签名")
            continue
        if row["cert_no"] != officer.cert_no:
            problems.append(f"{who}的签名与其执法证号不符")
            continue
        if row["key_id"] is None and row["signature"] is None:
            if any(k.cert_no == officer.cert_no and k.valid_at(signed_at) for k in keys.values()):
                problems.append(f"{who}在本所有有效的签名密钥，却只有手写签名")
            else:
                drawn.append(officer.name)
            continue
        key = keys.get(row["key_id"] or "")
        if key is None or row["signature"] is None:
            problems.append(f"{who}的签名密钥在本机没有登记")
        elif key.cert_no != officer.cert_no:
            problems.append(f"{who}的签名所用的密钥不是其本人的")
        elif not key.valid_at(signed_at):
            problems.append(f"{who}的签名密钥在签名时（{signed_at:%Y-%m-%d %H:%M}）不在有效期内（已停用或尚未生效）")
        elif not signature_hex_ok(key.public_key, signing_message(content_hash, record_id, position, officer.cert_no,
                                                                   key.user_id, row["key_id"]), row["signature"]):
            problems.append(f"{who}的密钥签名不成立（记录内容或签名被改动）")
        else:
            held.append(officer.name)
    if not held and not problems:
        problems.append("没有任何执法人员的密钥签名")
    return Check(held, drawn, problems)


def legacy_before(ctx: AppContext) -> datetime | None:
    """Records signed before this time (the upgrade that gave officers keys) may carry none."""
    value = ctx.setting_or(SINCE, "")
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def record_check(ctx: AppContext, record) -> Check:
    """``check_signatures`` for a signed record in this database (``InspectionRecord``)."""
    with ctx.sessions() as s:
        rows = [{"position": r.position, "cert_no": r.cert_no, "key_id": r.key_id, "signature": r.signature}
                for r in s.scalars(select(OfficerSignature).where(OfficerSignature.inspection_id == record.id))]
        keys = public_keys(s)
    return check_signatures(record.id, record.content_hash or "", record.signed_at, record.officers, rows, keys,
                            legacy_before=legacy_before(ctx))


def describe(check: Check) -> str:
    """One line for the QR/verify output: whose signatures hold."""
    if check.legacy:
        return "签名前的旧记录：执法人员签名密钥启用前签名，只有手写签名和内容摘要"
    parts = []
    if check.held:
        parts.append(f"执法人员密钥签名有效：{'、'.join(check.held)}")
    if check.drawn_only:
        parts.append(f"{DRAWN_ONLY}：{'、'.join(check.drawn_only)}")
    if check.problems:
        parts.append("；".join(check.problems))
    return "；".join(parts)
