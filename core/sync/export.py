"""Export: per peer, every record changed since the batch that peer last acknowledged.

Everything changed since that watermark goes again, so a lost package costs nothing: the
next export carries its records too. The packages and the "sent" bookkeeping are written
in one transaction; a package that cannot be written leaves nothing recorded.
"""
from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from sqlalchemy import func, insert, select

from core import anchors
from core.errors import InvalidInput
from core.files import remove_stale_parts
from core.attachments import read_attachment
from core.inspections import photo_path, signature_path
from core.sync import export_sets
from core.sync.changes import rows_of, set_bases, watermark
from core.sync.codec import dump, lines_bytes, rows_lines, to_json
from core.sync.devices import identity_for, peers, upstream
from core.sync.levels import claims, drop_other_stations, forwardable
from core.signing import sha256_hex, sign
from core.sync.package import TOMBSTONES, Batch, Item, member_of, records_member
from core.sync.writer import StreamedZip, manifest_bytes, write_zip_atomically
from core.sync.tombstones import MAX_TOMBSTONES, tombstones_for
from core.sync.spec import (
    ATTACHMENT_TABLES, BY_TABLE, DEFAULT_MAX_MB, FORMAT, FORMAT_VERSION, INSPECTION_CHILDREN, MODELS, PUBLISHED,
)
from core.users import LAPTOP_ROLES, require
from core.version import app_version
from db.engine import one_snapshot
from db.models import AuditEntry, Device, SyncBatch, SyncPeer, TemplateSnapshot, User, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.context import AppContext


def _record_of(ctx: AppContext, table: str, record: dict[str, Any], attachments: dict[str, bytes],
               may_log_in: frozenset[str] = frozenset(), upward: bool = False) -> tuple[dict[str, Any], dict[str, bytes]]:
    """One exported record with its attachments (signature PNG, photo file).

    A laptop receives the password verifiers only of the users who may log in on it (active
    inspectors and grid workers), never the admin's: a stolen laptop holds nothing that
    opens the station. An officer's wrapped signing key goes with the verifier (``may_log_in``:
    the ids of those users), so the officer can sign there and nowhere else. Up to the hub
    above (``upward``) no verifier and no wrapped key goes at all.
    """
    if table == "users" and (upward or not (record.get("active") and record.get("role") in LAPTOP_ROLES)):
        record["password_hash"] = None
    if table == "officer_keys" and record["user_id"] not in may_log_in:  # the wrapped private key, likewise
        record["wrapped_key"] = None
    if table == "signatures" and not attachments:  # the image is a file here (0023): read, decrypted and checked
        try:
            attachments[f"attachments/{record['sha256']}.png"] = read_attachment(ctx, signature_path(ctx, record["sha256"]))
        except InvalidInput as exc:
            raise InvalidInput(f"签名图像无法读取，未导出：{exc.message}；请从备份恢复附件目录") from exc
    if table in ATTACHMENT_TABLES:
        path = photo_path(ctx, record["sha256"], record["ext"])
        if path.is_file():  # the package carries the plain photo: the receiver stores it under its own key
            attachments[f"attachments/{record['sha256']}.{record['ext']}"] = read_attachment(ctx, path)
    return record, attachments


# the tables whose records ``_record_of`` changes or adds attachments to
_HOOKED = frozenset({"users", "officer_keys", "signatures", *ATTACHMENT_TABLES})
_NONE: Mapping[str, bytes] = MappingProxyType({})  # no attachments (shared, never changed)


def _collect(ctx: AppContext, session: Session, changed: dict[str, set[str]], max_bytes: int,
             upward: bool = False, stream: StreamedZip | None = None) -> list[Batch]:
    """The current row of every changed record, in FK order, split into batches by size.

    An inspection and its changed rows (answers, photos, signatures...) always travel in
    the same package: a signed inspection must arrive together with its children, since
    once it is signed at the receiver no child can be added to it. The rows are those of
    ``changed`` in ``sync_export_ids`` (``export_sets``), one query a table, read as tuples in
    sorted column order; each becomes its line at once (``codec.line_bytes``), and only the
    tables of ``_HOOKED`` go through ``_record_of``.

    ``stream``: the first package, written while the rows are read. As long as everything read
    so far fits one package (``Batch.bounds_fit``), each table's member goes to it once the
    table is read — final by then: its lines in the order the units below put them (an
    inspection's rows follow their group, the groups in the order they were first met, and no
    later table adds a group holding this table's rows) — with its new attachments; once it
    does not fit, the stream is abandoned and the packages are written after. When it took
    everything, the units are not made: the one batch returned only counts (``Batch.streamed``).
    """
    before: list[list[Item]] = []
    groups: dict[str, list[Item]] = {}
    after: list[list[Item]] = []
    snapshots: set[str] = set()
    sizes: dict[str, int] = {}  # each records member's bytes
    extra: dict[str, int] = {}  # each attachment's bytes
    streamed: set[str] = set()  # the attachments handed to ``stream``
    read: dict[str, list[bytes]] = {}  # each table's lines, as read
    devices_seen: set[str] = set()
    tables = list(BY_TABLE)
    may_log_in = frozenset() if upward else frozenset(session.scalars(select(User.id).where(
        User.active.is_(True), User.role.in_(LAPTOP_ROLES))))
    for model in MODELS:
        table = model.__tablename__
        if table == "template_snapshots" or not changed.get(table):
            continue
        keys, rows, proven = export_sets.table_rows(session, table, changed[table])
        binaries = export_sets.binary_columns(table, keys)
        hooked = table in _HOOKED
        device_at = keys.index("device_id") if "device_id" in keys else None
        group_at = keys.index("id" if table == "inspections" else "inspection_id") \
            if table == "inspections" or table in INSPECTION_CHILDREN else None
        early = tables.index(table) < tables.index("inspections")
        attachments = [_NONE] * len(rows)
        if binaries or hooked:
            records = [dict(zip(keys, row)) for row in rows]
            for i, record in enumerate(records):
                records[i], attachments[i] = _record_of(ctx, table, record, export_sets.strip_binaries(
                    record, binaries), may_log_in, upward)
            lines = lines_bytes(records, proven)
        else:  # no record changed on the way: the lines straight from the rows
            lines = rows_lines(keys, rows, proven)
        devices = [row[device_at] for row in rows] if device_at is not None else [None] * len(rows)
        items = list(zip(repeat(table), lines, attachments, devices))
        sizes[table] = sum(map(len, lines)) + len(lines)
        if lines:
            read[table] = lines
        if device_at is not None:
            devices_seen.update(devices)
        if binaries or hooked:
            extra.update((name, len(data)) for files in attachments for name, data in files.items())
        if group_at is not None:
            for row, item in zip(rows, items):
                groups.setdefault(row[group_at], []).append(item)
        else:
            (before if early else after).extend([item] for item in items)
        if table == "inspections":
            snapshots.update(map(itemgetter(keys.index("template_sha")), rows))
        if stream is not None and stream.alive and lines:
            if Batch.bounds_fit(sizes, list(extra.values()), max_bytes):
                _stream_table(stream, table, lines, rows, group_at, groups, attachments if binaries or hooked else (),
                              streamed)
            else:
                stream.abandon()
    # the templates first, in the first package, before any inspection that uses them
    first: list[Item] = [("template_snapshots", dump(record).encode("utf-8"), _NONE, None)
                         for row in rows_of(session, TemplateSnapshot, sorted(snapshots), key="sha256")
                         for record in [to_json("template_snapshots", dict(row))[0]]]
    sizes["template_snapshots"] = sum(len(line) + 1 for _t, line, _a, _d in first)
    batches = [Batch()]
    # all in one package (the common case: an upper bound of every size within every limit, so each
    # unit would fit): the units without asking
    one = Batch.bounds_fit(sizes, list(extra.values()), max_bytes)
    if stream is not None and stream.alive:
        if not one:
            stream.abandon()
        else:
            if first:
                read["template_snapshots"] = [line for _t, line, _a, _d in first]
                stream.add(records_member("template_snapshots"), member_of(read["template_snapshots"]))
            return [Batch.streamed(read, {d for d in devices_seen if d}, sum(sizes.values()) + sum(extra.values()))]
    for unit in [first, *before, *groups.values(), *after]:
        # above max_bytes, or beyond what a reader accepts (members, member and total size)
        if not one and not batches[-1].fits(unit, max_bytes):
            batches.append(Batch())
        batches[-1].add_unit(unit)
    return batches


def _stream_table(stream: StreamedZip, table: str, lines: list[bytes], rows: list[tuple], group_at: int | None,
                  groups: dict[str, list[Item]], attachments: Sequence[Mapping[str, bytes]], streamed: set[str]) -> None:
    """``table``'s member and its attachments not handed over yet, to ``stream`` (``_collect``). An
    inspection's rows go by group, in the groups' order, then as read (a stable sort)."""
    if group_at is not None:
        rank = {group: n for n, group in enumerate(groups)}
        lines = [lines[i] for i in sorted(range(len(rows)), key=[rank[row[group_at]] for row in rows].__getitem__)]
    stream.add(records_member(table), member_of(lines))
    for files in attachments:
        for name, data in files.items():
            if name not in streamed:
                streamed.add(name)
                stream.add(name, data)


def export_packages(ctx: AppContext, out_dir: Path, *, max_mb: float = DEFAULT_MAX_MB,
                    peer: str | None = None) -> list[Path]:
    """Write one package per peer (more above ``max_mb``); returns their paths.

    Everything changed since the watermark the peer acknowledged goes again, so a lost
    package costs nothing: the next export carries its records too. ``peer``: only for
    that one registered device (the HTTP hub exports for the laptop that asks).
    Every role may sync ("sync"); ``out_dir`` is created as needed.
    """
    require(ctx, "sync")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInput(f"导出目录 {out_dir} 不是文件夹")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"无法建立导出目录 {out_dir}（{exc.strerror or exc}）") from exc
    remove_stale_parts(out_dir, "sync-*.zip")  # what an export killed here before left behind
    max_bytes = max(int(max_mb * 1024 * 1024), 1)
    paths: list[Path] = []
    targets = peers(ctx)
    if peer is not None:
        targets = [p for p in targets if p[0] == peer]
        if not targets:
            raise InvalidInput("该设备未在本所登记，无法为它导出同步包")
    for peer_id, _name in targets:
        paths.extend(_export_to(ctx, out_dir, peer_id, max_bytes))
    return paths


def _export_to(ctx: AppContext, out_dir: Path, peer: str, max_bytes: int) -> list[Path]:
    """All packages for one peer, recorded as sent in the same transaction.

    If any package cannot be written the transaction rolls back and the packages already
    written by this call are removed: their seqs will be used again by the next export.
    """
    paths: list[Path] = []
    try:
        with _gc_paused():
            return _write_batches(ctx, out_dir, peer, max_bytes, paths)
    except BaseException:
        for path in paths:
            path.unlink(missing_ok=True)
        raise


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (on again after it, if it was on).

    An export holds a few objects per record (its row, record, line, item: ~2 M for 450k records),
    none of them in a cycle; with the collector on, its full passes walked them all again and
    again as they grew (making 450k batch items: 2.98 s with it on, 0.27 s off; docs/performance.md
    "Export, fifth round"). What the block leaves in cycles is collected after it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _write_batches(ctx: AppContext, out_dir: Path, peer: str, max_bytes: int, paths: list[Path]) -> list[Path]:
    station_id, me, key = identity_for(ctx, peer)
    upward = (upstream(ctx) or ("",))[0] == peer
    # our audit head, sealed now: the peer keeps it (not up: sealed by our own key, which the
    # hub above does not know; it knows us by the key of our enrolment there, docs/levels.md)
    sealed = {} if upward else anchors.for_manifest(ctx.engine)
    with ctx.transaction() as s:
        # one snapshot, or an edit committed between reading a record and writing the peer's
        # sync_base would be recorded as sent (tests/integration/test_sync_snapshot.py)
        one_snapshot(s)
        upto = s.scalar(select(func.max(AuditEntry.seq))) or 0
        member = s.get(Device, peer)
        down = member is not None  # to a laptop or a member station: what came from above goes on down
        # up: everything the hub above has not received, our laptops' records too (docs/levels.md)
        since = watermark(s, peer)
        with export_sets.export_ids(s, since, upto, imported=upward, from_above=down) as changed:
            size = sum(map(len, changed.values()))
            if upward:
                forwardable(s, peer, changed, since, upto)
            if not down:  # published checklists and rules only go down (docs/levels.md)
                changed.pop(PUBLISHED, None)
            if sum(map(len, changed.values())) != size:
                export_sets.reload_ids(s, changed)
            paths = _write_packages(ctx, s, out_dir, peer, changed, (station_id, me, key), upto, max_bytes,
                                    upward, member, sealed, paths)
    return paths


def _write_packages(ctx: AppContext, s: Session, out_dir: Path, peer: str, changed: dict[str, set[str]],
                    identity: tuple[str, str, str], upto: int, max_bytes: int, upward: bool,
                    member: Device | None, sealed: dict[str, Any], paths: list[Path]) -> list[Path]:
    station_id, me, key = identity
    export_sets.add_missing_parents(s, peer, changed)
    if member is not None and member.kind == "station":
        size = sum(map(len, changed.values()))
        drop_other_stations(s, member.name, changed)
        if sum(map(len, changed.values())) != size:
            export_sets.reload_ids(s, changed)
    last_in = s.scalar(select(SyncPeer.last_imported_seq).where(SyncPeer.peer_id == peer)) or 0
    seq = s.scalar(select(func.max(SyncBatch.seq)).where(
        SyncBatch.direction == "out", SyncBatch.peer_id == peer)) or 0
    # the first package is deflated, hashed and written on a second thread while the rows are read
    # (``_collect``'s ``stream``), the others after; that thread writes them while this one writes
    # what was sent as the peer's base (zlib, hashlib and SQLite each let go of the GIL): the rows
    # by one statement a table, then the tombstones. Leaving the block waits for the writer.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-export-zip") as pool:
        stream = StreamedZip(pool, _package_path(out_dir, me, peer, seq + 1), key, paths)
        try:
            batches = _collect(ctx, s, changed, max_bytes, upward, stream)
            dead = _add_tombstones(s, peer, upto, batches)
            jobs = []
            for batch in batches:
                seq += 1
                head = {
                    "format": FORMAT, "format_version": FORMAT_VERSION, "app_version": app_version(),
                    "station_id": station_id, "device_id": me,
                    "to_device_id": peer, "seq": seq, "created_at": ctx.clock().isoformat(),
                    "counts": {t: len(lines) for t, lines in batch.lines.items()},
                    "acks": {peer: last_in},
                    **({"tombstones": len(batch.tombstones)} if batch.tombstones else {}),
                    **({"stations": stations} if upward and (stations := claims(s, batch.devices)) else {}),
                    **sealed,
                }
                jobs.append((_package_path(out_dir, me, peer, seq), head, batch))
            heads, written = [head for _target, head, _batch in jobs], []
            if batches[0].is_streamed:  # the first package's records and attachments went to it already
                if batches[0].tombstones:
                    stream.add(TOMBSTONES, member_of(batches[0].tombstones))
                written.append(stream.finish(heads[0]))
            rest = pool.submit(_write_zips, jobs[len(written):], key, paths)
            export_sets.write_bases(s, peer, [t for t in BY_TABLE if changed.get(t)])
            set_bases(s, peer, dead)
            files = [future.result() for future in written] + rest.result()
        except BaseException:
            stream.abandon()
            raise
    s.execute(insert(SyncBatch.__table__), [{
        "direction": "out", "peer_id": peer, "seq": head["seq"], "sha256": sha256, "audit_upto": upto,
        "created_at": utcnow()} for head, sha256 in zip(heads, files)])
    return paths


def _add_tombstones(s: Session, peer: str, upto: int, batches: list[Batch]) -> list[tuple[str, str, int]]:
    """The deletions ``peer`` has not had, into the first batch (more than ``MAX_TOMBSTONES``: into
    batches of their own after the others); returns their (table, id, version)."""
    dead = []
    for number, tombstone in enumerate(tombstones_for(s, peer, watermark(s, peer), upto)):
        if number and number % MAX_TOMBSTONES == 0:
            batches.append(Batch())
        batches[-1 if number >= MAX_TOMBSTONES else 0].add_tombstone(tombstone)
        dead.append((tombstone["table"], tombstone["id"], tombstone["version"]))
    return dead


def _package_path(out_dir: Path, me: str, peer: str, seq: int) -> Path:
    return out_dir / f"sync-{me[:8]}-to-{peer[:8]}-{seq:06d}.zip"


def _write_zips(jobs: list[tuple[Path, dict[str, Any], Batch]], key: str, paths: list[Path]) -> list[str]:
    """Each package: its members listed by SHA-256 in the manifest (``head`` + "members"), the
    manifest signed, the zip written atomically; returns the SHA-256 of each file. A written
    package joins ``paths`` at once (removed again if the export fails)."""
    out = []
    for target, head, batch in jobs:
        members = batch.members()
        manifest = manifest_bytes(head, {name: sha256_hex(data) for name, data in members.items()})
        write_zip_atomically(target, manifest, sign(key, manifest), members)
        paths.append(target)
        del members
        out.append(sha256_hex(target.read_bytes()))
    return out
