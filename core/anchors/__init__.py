"""Audit anchors: the head of the audit chain, sealed and kept outside the chain's table.

The chain (``core.audit``) finds an edited, removed or reordered entry, but not a cut-off
tail, an emptied table or a chain recomputed from scratch. An anchor is the chain's head
— (seq, hash) of its last entry — signed with this database's key (Ed25519: the sync
device key ``sync.private_key``; a database not set up for sync gets a local anchor key,
``audit.anchor_private_key``, see ``anchor_private_key``). Anchors are kept

* in the database (``audit_anchors``, source "self"), in the same transaction as the
  entries they seal;
* in a signed, append-only file beside the database, ``<db>.anchors`` (one JSON line per
  anchor), written just after that transaction commits;
* in every backup (``core.backup`` seals just before copying, so the copy holds an anchor
  of its own head);
* at the peer on every sync: an exported package's manifest carries the sender's newest
  anchor, and the receiver keeps it (``audit_anchors``, source "peer").

When: a transaction that adds audit entries seals them just before it commits, unless
this process sealed less than ``SEAL_EVERY`` seconds ago; what is left unsealed then is
sealed by the next such transaction, by ``ctx.close()``, at process exit, before a
backup and before a sync export. At most ``SEAL_EVERY`` seconds of entries are unsealed
when a process is killed.

``verify_audit`` checks the chain against every anchor it can find: the database's, the
file's, the backups', the peer's (``peer_db``). An anchor beyond the chain's end (entries
deleted), or whose hash differs from the chain's entry at its seq (the chain rewritten),
an anchor line whose signature fails, or the file missing anchors the database recorded,
is reported. A restore from a backup (``note_restore``) seals a "restore" anchor: older
anchors above its seq no longer apply.
"""
from __future__ import annotations

from core.anchors.checking import known_keys_of, note_restore, seal_database_file, verify_audit
from core.anchors.sealing import (
    Anchor, after_commit, anchor_file, anchor_file_for, anchor_private_key, for_manifest, read_file, receive, seal,
    seal_before_commit, seal_if_pending, seal_now, trusted_keys,
)

__all__ = [
    "Anchor", "after_commit", "anchor_file", "anchor_file_for", "anchor_private_key", "for_manifest", "known_keys_of",
    "note_restore", "read_file", "receive", "seal", "seal_before_commit", "seal_database_file", "seal_if_pending",
    "seal_now", "trusted_keys", "verify_audit",
]
