"""What changed since the peer last acknowledged: used by the export and by the status panel.

Changes are found in the audit log: entries after the peer's watermark, written locally
(not by an import). ``sync_base`` keeps, per peer, the version of each record last sent to
or received from it: the base that tells "both sides changed it" from "one side did".
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from core.sync.devices import peers
from core.sync.spec import AUDITED_TABLES, BY_TABLE, FROM_ABOVE, INSPECTION_CHILDREN, SYNC_ACTOR_PREFIX
from db.bulk import chunks, upsert
from db.models import AuditEntry, SyncBase, SyncBatch, SyncPeer

if TYPE_CHECKING:
    from core.context import AppContext


def watermark(session: Session, peer: str) -> int:
    """The audit seq covered by the newest of our batches this peer has acknowledged."""
    acked = session.scalar(select(SyncPeer.acked_seq).where(SyncPeer.peer_id == peer)) or 0
    upto = session.scalar(select(SyncBatch.audit_upto).where(
        SyncBatch.direction == "out", SyncBatch.peer_id == peer, SyncBatch.seq == acked))
    return upto or 0


def acked_seq(ctx: AppContext, peer: str) -> int:
    """The newest of our batches this peer has acknowledged (0: none)."""
    with ctx.sessions() as s:
        return s.scalar(select(SyncPeer.acked_seq).where(SyncPeer.peer_id == peer)) or 0


def received_batch(ctx: AppContext, sender: str, seq: int) -> str | None:
    """The SHA-256 of the package imported from ``sender`` as batch ``seq``, if any."""
    with ctx.sessions() as s:
        return s.scalar(select(SyncBatch.sha256).filter_by(direction="in", peer_id=sender, seq=seq))


def changed_since(session: Session, since: int, upto: int | None = None, *, imported: bool = False,
                  from_above: bool = False) -> dict[str, set[str]]:
    """(table → record ids) changed locally — not by an import — after audit seq ``since``.

    ``imported``: by imports too (a station's package up to its county, docs/levels.md);
    ``from_above``: by imports from the level above too (what goes on down)."""
    changed: dict[str, set[str]] = {}
    for table, record_id in session.connection().execute(
            changed_query(since, upto, imported=imported, from_above=from_above)).all():
        changed.setdefault(table, set()).add(record_id)
    return changed


def changed_query(since: int, upto: int | None = None, *, imported: bool = False, from_above: bool = False,
                  extra: tuple = (), distinct: bool = True):
    """The distinct (table, record id[, *extra]) of ``changed_since``, as a query (the export
    runs it into its table of ids, ``export_sets.export_ids``; ``distinct=False``: every entry's,
    for an insert whose key drops the repeats)."""
    local = ~AuditEntry.actor.startswith(SYNC_ACTOR_PREFIX)
    if from_above:
        local = or_(local, AuditEntry.actor.startswith(FROM_ABOVE))
    query = (select(AuditEntry.table_name, AuditEntry.record_id, *extra)
             .where(AuditEntry.seq > since, AuditEntry.table_name.in_(AUDITED_TABLES)))
    if distinct:
        query = query.distinct()
    if not imported:
        query = query.where(local)
    if upto is not None:
        query = query.where(AuditEntry.seq <= upto)
    return query


def rows_of(session: Session, model: type, ids: list[str], key: str = "id", columns: tuple[str, ...] = ()):
    """The rows of ``ids`` (every column, or only ``columns``), in chunks of 500, ordered by ``key``."""
    table = model.__table__
    selected = select(*(table.c[c] for c in columns)) if columns else select(table)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        yield from session.execute(selected.where(table.c[key].in_(chunk)).order_by(table.c[key])).mappings()


def peer_has(session: Session, peer: str, table: str, record_ids: set[str]) -> set[str]:
    """Those of ``record_ids`` sent to or received from ``peer`` (they have a base), a few queries."""
    found: set[str] = set()
    for chunk in chunks(sorted(record_ids)):
        found.update(session.scalars(select(SyncBase.record_id).where(
            SyncBase.peer_id == peer, SyncBase.table_name == table, SyncBase.record_id.in_(chunk))))
    return found


def base_version(session: Session, peer: str, table: str, record_id: str) -> int | None:
    return session.scalar(select(SyncBase.version).filter_by(peer_id=peer, table_name=table, record_id=record_id))


def set_bases(session: Session, peer: str, versions: list[tuple[str, str, int]]) -> None:
    """``set_base`` for many records at once: (table, record id, version) each."""
    rows = {(table, record_id): version for table, record_id, version in versions}
    upsert(session.connection(), SyncBase.__table__,
           [{"peer_id": peer, "table_name": t, "record_id": r, "version": v} for (t, r), v in rows.items()],
           key=("peer_id", "table_name", "record_id"), update=("version",))


def set_base(session: Session, peer: str, table: str, record_id: str, version: int) -> None:
    key = {"peer_id": peer, "table_name": table, "record_id": record_id}
    done = session.execute(update(SyncBase.__table__).filter_by(**key).values(version=version))
    if done.rowcount == 0:
        session.execute(insert(SyncBase.__table__), [{**key, "version": version}])


def pending_changes(ctx: AppContext) -> dict[str, int]:
    """table → number of records changed here that some peer has not acknowledged yet.

    The export's own query (local changes, not imports, after the peer's watermark),
    without writing anything. Parents an export adds for a peer that lacks them, and the
    template snapshots that travel with inspections, are not counted.
    """
    with ctx.sessions() as s:
        marks = {watermark(s, peer) for peer, _name in peers(ctx, required=False)}
        if not marks:
            return {}
        changed = changed_since(s, min(marks))
    return {table: len(changed[table]) for table in BY_TABLE if table in changed}
