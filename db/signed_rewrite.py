"""The one migration-only way to rewrite signed rows, keeping every content hash valid.

A signed inspection is never edited (``db.signed_lock``); corrections are new records.
A *migration* may still have to rewrite signed rows without changing what they say —
say, moving signature images out of the database into files, or re-encoding a column.
It does so through ``rewrite_signed_rows`` and nothing else::

    from db.signed_rewrite import rewrite_signed_rows

    def upgrade() -> None:
        rewrite_signed_rows(op.get_bind(), lambda conn: conn.exec_driver_sql("UPDATE signatures SET ..."))

``rewrite_signed_rows``, inside the migration's transaction:

1. recomputes the content hash of every signed inspection from its rows and refuses to
   start if one does not hold already (a migration must not launder a tampered record);
2. drops the lock's triggers, runs ``work``, and creates the triggers again;
3. recomputes every content hash again: the same signed inspections, each with its stored
   hash unchanged and equal to the one recomputed, every signature image (while images
   are in the database) hashing to its ``sha256``. Anything else raises
   ``SignedRewriteError`` and the migration's transaction rolls back — the triggers and
   the rows as they were.

The hash is recomputed here from the tables with SQL, not through the ORM models: a
migration runs against the schema of its time. It is the canonical form of
``core.inspections.records.canonical``; ``tests/security/test_lock_and_anchors.py`` keeps
the two equal. A migration that changes a column the canonical form reads must update
``_canonical`` in the same change.
"""
from __future__ import annotations

import hashlib
import json
from typing import Callable

import sqlalchemy as sa

from db import signed_lock


class SignedRewriteError(RuntimeError):
    """A rewrite would leave (or found) a signed inspection whose content hash does not hold."""


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _rows(connection, sql: str, **types) -> list:
    return list(connection.execute(sa.text(sql).columns(**types)))


def _has_column(connection, table: str, column: str) -> bool:
    return any(c["name"] == column for c in sa.inspect(connection).get_columns(table))


def _canonical(connection) -> dict[str, tuple[str | None, dict]]:
    """Every signed inspection: (stored content hash, canonical content) from the tables."""
    legal = "i.legal_json" if _has_column(connection, "inspections", "legal_json") else "'{}'"
    inspections = _rows(connection, f"""
        SELECT {legal} AS legal_json, i.id, i.number, i.kind, i.purpose, i.party_json, i.place, i.notified_by, i.started_at, i.ended_at,
               i.findings, i.party_statement, i.party_present_name, i.party_refused, i.witness_name, i.signed_at,
               i.content_hash, t.json AS template_json
        FROM inspections i JOIN template_snapshots t ON t.sha256 = i.template_sha
        WHERE i.status = 'signed'""",
        started_at=sa.DateTime, ended_at=sa.DateTime, signed_at=sa.DateTime, party_refused=sa.Boolean)
    out: dict[str, tuple[str | None, dict]] = {}
    if not inspections:
        return out
    signed = "SELECT id FROM inspections WHERE status = 'signed'"
    officers: dict[str, list] = {}
    for r in _rows(connection, f"SELECT inspection_id, name, cert_no FROM inspection_officers"
                               f" WHERE inspection_id IN ({signed}) ORDER BY inspection_id, position"):
        officers.setdefault(r.inspection_id, []).append([r.name, r.cert_no])
    answers: dict[str, dict] = {}
    for r in _rows(connection, f"SELECT inspection_id, item_code, result, note FROM item_results"
                               f" WHERE inspection_id IN ({signed})"):
        answers.setdefault(r.inspection_id, {})[r.item_code] = [r.result, r.note]
    photos: dict[str, list] = {}
    for r in _rows(connection, f"SELECT inspection_id, item_code, sha256 FROM photos WHERE inspection_id IN ({signed})"):
        photos.setdefault(r.inspection_id, []).append([r.item_code, r.sha256])
    signatures: dict[str, dict] = {}
    for r in _rows(connection, f"SELECT inspection_id, role, signer_name, sha256, signed_at FROM signatures"
                               f" WHERE inspection_id IN ({signed})", signed_at=sa.DateTime):
        signatures.setdefault(r.inspection_id, {})[r.role] = [r.signer_name, r.sha256, _iso(r.signed_at)]
    orders = {r.inspection_id: {"number": r.number, "deadline": _iso(r.deadline), "requirements": r.requirements}
              for r in _rows(connection, f"SELECT inspection_id, number, deadline, requirements FROM rectifications"
                                         f" WHERE inspection_id IN ({signed})", deadline=sa.Date)}
    templates: dict[str, dict] = {}
    for i in inspections:
        if i.template_json not in templates:
            data = json.loads(i.template_json)
            templates[i.template_json] = {"code": data["code"], "version": data["version"],
                                          "sha256": hashlib.sha256(i.template_json.encode("utf-8")).hexdigest()}
        content = {
            "id": i.id, "number": i.number, "kind": i.kind, "purpose": i.purpose,
            "template": templates[i.template_json], "party": json.loads(i.party_json),
            "officers": officers.get(i.id, []), "place": i.place, "notified_by": i.notified_by,
            "started_at": _iso(i.started_at), "ended_at": _iso(i.ended_at), "findings": i.findings,
            "party_statement": i.party_statement, "party_present_name": i.party_present_name,
            "party_refused": bool(i.party_refused), "witness_name": i.witness_name,
            "answers": dict(sorted(answers.get(i.id, {}).items())),
            "photos": sorted(photos.get(i.id, [])),
            "signatures": {role: sig[:2] for role, sig in sorted(signatures.get(i.id, {}).items())},
            "rectification": orders.get(i.id),
            "signed_at": _iso(i.signed_at),
        }
        legal_elements = json.loads(i.legal_json or "{}")
        if legal_elements.get("canonical", 1) == 2:  # canonical v2 (core.inspections.records.canonical)
            content["canonical"] = 2
            content["legal"] = {k: v for k, v in sorted(legal_elements.items()) if k != "canonical"}
            content["signatures"] = dict(sorted(signatures.get(i.id, {}).items()))
        out[i.id] = (i.content_hash, content)
    return out


def _digest(content: dict) -> str:
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signed_content_hashes(connection) -> dict[str, tuple[str | None, str]]:
    """Every signed inspection: (stored content hash, the hash recomputed from its rows)."""
    return {key: (stored, _digest(content)) for key, (stored, content) in _canonical(connection).items()}


def _bad_images(connection) -> list[str]:
    if not _has_column(connection, "signatures", "png"):
        return []
    rows = _rows(connection, "SELECT s.id, s.sha256, s.png FROM signatures s JOIN inspections i"
                             " ON i.id = s.inspection_id WHERE i.status = 'signed'", png=sa.LargeBinary)
    return [r.id for r in rows if r.png is not None and hashlib.sha256(r.png).hexdigest() != r.sha256]


def _problems(hashes: dict[str, tuple[str | None, str]]) -> list[str]:
    return sorted(key for key, (stored, recomputed) in hashes.items() if stored != recomputed)


def rewrite_signed_rows(connection, work: Callable[[object], None]) -> int:
    """Run ``work(connection)`` with the signed-record lock lifted; prove every content hash after.

    For migrations only (see the module's docstring). Returns the number of signed
    inspections checked; raises ``SignedRewriteError`` (the caller's transaction then
    rolls back) if any content hash or signature image does not hold, before or after.
    """
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        # pysqlite opens a transaction only before DML: without this the DROP TRIGGER would
        # commit on its own, and a failed rewrite could not put the triggers back
        connection.exec_driver_sql("BEGIN")
    before = signed_content_hashes(connection)
    broken = _problems(before)
    if broken or _bad_images(connection):
        raise SignedRewriteError(f"signed inspections whose content hash does not hold before the rewrite: "
                                 f"{broken[:5] or _bad_images(connection)[:5]}")
    signed_lock.drop(connection)
    work(connection)
    signed_lock.create(connection)
    after = signed_content_hashes(connection)
    if set(after) != set(before):
        raise SignedRewriteError(f"the rewrite added or removed signed inspections: "
                                 f"{sorted(set(before) ^ set(after))[:5]}")
    changed = sorted(k for k in before if after[k][0] != before[k][0])
    broken = _problems(after)
    images = _bad_images(connection)
    if changed or broken or images:
        raise SignedRewriteError(f"the rewrite changed what signed inspections say: stored hash changed {changed[:5]}, "
                                 f"content no longer matching {broken[:5]}, signature images {images[:5]}")
    return len(after)
