"""Signed means proven: an inspection that arrives signed must prove it before it is stored.

An inspection arriving with ``status = "signed"`` that is not signed here yet is accepted
only if

* its ``content_hash`` recomputes (``core.inspections.content_hash``) from its own rows as
  they will stand here after the import: its rows in the package (officers, answers,
  photos, signatures, the rectification order — signature images are attachments named by
  their SHA-256, so the hash covers them) over what this database already has for it (a
  draft synced before), a package row replacing the stored one with the same id or in the
  same place (natural key), with its template snapshot (itself checked against its SHA-256);
* it carries every signature signing requires (the party or the witness, each officer);
* each of its officers is **known**: the officer's 执法证号 belongs to an inspector on this
  database's list of users (执法人员名录). At the station, which owns that list, the
  inspector must be active: work from the field is signed by current officers. On a
  laptop, whose list comes from the station (also in the same package), an inactive
  (retired) inspector is accepted: the station sends older records too;
* its officers' **own signatures** hold (``core.officer_keys.check_signatures``): each
  officer has an Ed25519 signature over the content hash by a key of that officer valid at
  the signing time, or is marked drawn-only (an officer from elsewhere, with no key here —
  refused for an officer who had a valid key), and at least one officer's key signed. The
  public keys are read once per package. Only the station may send (to a laptop) a record
  signed before officers had keys, which carries none.

Otherwise the whole package is refused (``InvalidInput``), nothing written. An inspection
already signed here is never overwritten (``apply``), so it needs no proof.

The content hash is a consistency proof that whoever holds an enrolled device key can
compute; the officers' key signatures, made with keys only their passwords open, are what
ties a record to the people who signed it.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.checklists import template_from_snapshot
from core.errors import InvalidInput
from core.inspections import content_hash, record_from_rows, signature_roles
from core.officer_keys import check_signatures, package_keys, public_keys
from core.sync.devices import role, sender_kind
from core.sync.spec import NATURAL_KEYS
from core.sync.validate import SCHEMAS, shown
from db.bulk import chunks
from db.models import (
    Inspection, InspectionOfficer, ItemResult, OfficerSignature, Photo, Rectification, Signature, TemplateSnapshot,
    User,
)

if TYPE_CHECKING:
    from core.context import AppContext
    from core.sync.package import Package

# what the content hash reads of each child table
_CHILD_COLUMNS = {
    "inspection_officers": (InspectionOfficer, ("id", "position", "name", "cert_no")),
    "item_results": (ItemResult, ("id", "item_code", "result", "note")),
    "photos": (Photo, ("id", "item_code", "sha256", "original_name")),
    "signatures": (Signature, ("id", "role", "signer_name", "sha256")),
    "rectifications": (Rectification, ("id", "number", "deadline", "requirements", "status")),
    # not in the hash: the officers' key signatures of it (core.officer_keys)
    "officer_signatures": (OfficerSignature, ("id", "position", "cert_no", "key_id", "signature")),
}


def _stored_children(session: Session, ids: list[str]) -> dict[str, dict[str, dict[str, dict]]]:
    """table → inspection id → row id → row (JSON form) of what this database has for ``ids``."""
    out: dict[str, dict[str, dict[str, dict]]] = {t: {} for t in _CHILD_COLUMNS}
    for table, (model, keys) in _CHILD_COLUMNS.items():
        columns = [getattr(model, k) for k in keys]
        for chunk in chunks(ids):
            for row in session.execute(select(model.inspection_id, *columns).where(model.inspection_id.in_(chunk))):
                values = dict(zip(keys, row[1:]))
                if "deadline" in values:
                    values["deadline"] = values["deadline"].isoformat()
                out[table].setdefault(row[0], {})[values["id"]] = values
    return out


def _merged(table: str, stored: dict[str, dict], incoming: list[dict]) -> list[dict]:
    """The rows of one inspection as they will stand: the package's over the stored ones
    (same id, or the same place: a re-drawn signature, a re-entered officer)."""
    if not stored:
        return incoming
    rows = {} if table == "rectifications" and incoming else dict(stored)  # one order per inspection
    natural = [k for k in NATURAL_KEYS.get(table, ()) if k != "inspection_id"]
    by_place = {tuple(r[k] for k in natural): rid for rid, r in rows.items()} if natural else {}
    for row in incoming:
        if natural:
            place = tuple(row[k] for k in natural)
            old = by_place.get(place)
            if old is not None and old != row["id"]:
                rows.pop(old, None)
            by_place[place] = row["id"]
        rows[row["id"]] = row
    return list(rows.values())


def _roster(session: Session, pkg: Package, *, with_package: bool) -> dict[str, bool]:
    """执法证号 → active, of the inspectors known here (and in the package, on a laptop)."""
    users = {uid: (cert, active, user_role) for uid, cert, active, user_role in session.execute(
        select(User.id, User.cert_no, User.active, User.role).where(User.cert_no.is_not(None)))}
    if with_package:
        for u in pkg.records.get("users", ()):
            full = SCHEMAS["users"].complete(u)
            users[u["id"]] = (full["cert_no"], full["active"] is not False, full["role"])
    return {cert: active for cert, active, user_role in users.values() if cert and user_role == "inspector"}


def prove_signed(ctx: AppContext, session: Session, pkg: Package) -> None:
    """Refuse the package unless every inspection it brings as newly signed is proven (above)."""
    incoming = [r for r in pkg.records.get("inspections", ()) if r["status"] == "signed"]
    if not incoming:
        return
    name = shown(pkg.path.name, 120)
    ids = [r["id"] for r in incoming]
    here: dict[str, str] = {}
    for chunk in chunks(ids):
        here.update(session.execute(select(Inspection.id, Inspection.status).where(Inspection.id.in_(chunk))).all())
    todo = [r for r in incoming if here.get(r["id"]) != "signed"]
    if not todo:
        return
    wanted = {r["id"] for r in todo}
    stored = _stored_children(session, sorted(wanted & set(here)))
    children: dict[str, dict[str, list[dict]]] = {t: {} for t in _CHILD_COLUMNS}
    for table in _CHILD_COLUMNS:
        complete = SCHEMAS[table].complete
        for row in pkg.records.get(table, ()):
            if row["inspection_id"] in wanted:
                children[table].setdefault(row["inspection_id"], []).append(complete(row))
    snapshots = {r["sha256"]: r["json"] for r in pkg.records.get("template_snapshots", ())}
    templates: dict[str, Any] = {}
    # a station checks its laptops' officers against its own list; what comes from the level above
    # or from a member station (which checked them) brings the officers and their keys along
    kind = sender_kind(ctx, pkg.manifest["device_id"])
    station = role(ctx) == "station" and kind == "laptop"
    roster = _roster(session, pkg, with_package=not station)
    keys = public_keys(session)  # every officer key known here: one query for the whole package
    if not station:  # a laptop's list of keys comes from the station, maybe in this very package
        keys.update(package_keys(map(SCHEMAS["officer_keys"].complete, pkg.records.get("officer_keys", ()))))
    # records signed before officers had keys carry no officer signatures: only the station,
    # which accepted them then, may send them (to a laptop); everything new needs them
    from_station = not station
    legacy_before = datetime.max if from_station else None
    complete = SCHEMAS["inspections"].complete
    for row in map(complete, todo):
        number = shown(row["number"], 64)
        refused = f"同步包 {name} 已拒绝：检查记录 {number} 标为已签名，但"
        sha = row["template_sha"]
        if sha not in templates:
            text = snapshots.get(sha)
            if text is None:
                text = session.scalar(select(TemplateSnapshot.json).where(TemplateSnapshot.sha256 == sha))
            try:
                templates[sha] = (template_from_snapshot(text), text) if text is not None else None
            except Exception:  # noqa: BLE001 - any malformed snapshot: refused below, one line
                templates[sha] = None
        if templates[sha] is None:
            raise InvalidInput(f"{refused}其检查表模板快照缺失或无效")
        rows = {t: _merged(t, stored[t].get(row["id"], {}), children[t].get(row["id"], [])) for t in _CHILD_COLUMNS}
        if len(rows["rectifications"]) > 1:
            raise InvalidInput(f"{refused}有多份责令改正通知书")
        if row["content_hash"] is None or row["signed_at"] is None:
            raise InvalidInput(f"{refused}缺少内容摘要或签名时间")
        try:
            record = record_from_rows(
                row, *templates[sha], officers=rows["inspection_officers"], results=rows["item_results"],
                photos=rows["photos"], signatures=rows["signatures"],
                rectification=rows["rectifications"][0] if rows["rectifications"] else None)
        except ValueError as exc:  # party_json that is not JSON
            raise InvalidInput(f"{refused}其当事人信息（party_json）不是有效的 JSON") from exc
        if content_hash(record) != row["content_hash"]:
            raise InvalidInput(f"{refused}其内容摘要与记录内容不符（记录被改动或伪造），未导入任何内容")
        missing = [r for r in signature_roles(record) if r not in record.signatures]
        if missing:
            raise InvalidInput(f"{refused}缺少签名：{'、'.join(missing)}")
        for officer in record.officers:
            known = roster.get(officer.cert_no) if officer.cert_no else None
            if known is None or (station and not known):
                where = "不是本所执法人员名录中的在职执法人员" if station else "不在本所执法人员名录中"
                raise InvalidInput(f"{refused}执法人员“{shown(officer.name, 32)}”（执法证号 "
                                   f"{shown(officer.cert_no, 32) or '无'}）{where}，未导入任何内容")
        check = check_signatures(row["id"], row["content_hash"], datetime.fromisoformat(row["signed_at"]),
                                 record.officers, rows["officer_signatures"], keys, legacy_before=legacy_before)
        if not check.ok:
            raise InvalidInput(f"{refused}没有有效的执法人员密钥签名（{shown('；'.join(check.problems), 200)}），"
                               "未导入任何内容")
