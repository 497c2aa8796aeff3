"""Batch sync over a USB stick, a shared folder or the station's hub (DESIGN.md "Sync in batches").

A station registers each laptop (``add_device`` / ``enrol_device``), then the two sides
exchange signed ``.zip`` packages (docs/sync-format.md):

* ``export_packages`` writes, per peer, every record changed since the last batch that
  peer acknowledged (``changes``: found in the audit log; entries written while importing
  are left out so imported records are never echoed back).
* ``import_package`` verifies the whole package before it touches the database or the
  attachments folder — bounded reading of the zip, signature, station, format, every
  member's SHA-256 (``package``), every record against its table's schema (``validate``) —
  then applies it in one transaction (``apply``, with ``bulk`` for records never seen
  here), where an inspection arriving signed must first prove its content hash and its
  officers (``signed``); photo files are moved into place only after the commit.
* ``push`` / ``pull`` carry the same packages over HTTP to the station's hub (``client``).
* ``sync_status`` and the conflict list/resolution serve the GUI panel.

Records are matched by UUID and version against ``sync_base`` — the version last sent
to or received from *that* peer — so "both sides changed it" is a conflict that is kept
(``sync_conflicts``), never silently dropped. Deletions travel as tombstones
(``tombstones``, ``core.deletions``); a delete against an edit is a conflict too.

The modules, each one concern: ``spec`` (what syncs, the enums), ``keys``, ``devices``,
``codec`` (records as JSON), ``package`` (write/read/verify, the limits), ``validate`` (the
schema per table), ``signed`` (signed means proven), ``changes``, ``export``, ``apply``,
``bulk``, ``tombstones``, ``conflicts``, ``status``, ``client``, ``levels`` (a station that is also a
member of its county, docs/levels.md), ``replay`` (the hub's record of requests it
accepted). Import from here, not from them.
"""
from __future__ import annotations

from core.sync.apply import ImportSummary, import_package, import_packages
from core.sync.changes import acked_seq, pending_changes, received_batch
from core.sync.client import HubClient, HubSummary, pull, push
from core.sync.codec import record_values
from core.sync.conflicts import ConflictRow, FieldDiff, Resolution, list_conflicts, resolve_conflict
from core.sync.devices import (
    DeviceRow, add_device, enrol_device, enrolment_file_name, find_device, list_devices, open_enrolment, peers, private_key,
    revoke_device, role,
)
from core.sync.levels import join, release_member
from core.sync.replay import claim_request
from core.sync.export import export_packages
from core.sync.package import Package, read_package
from core.sync.spec import (
    AUDITED_TABLES, BY_TABLE, DEFAULT_MAX_MB, FORMAT, FORMAT_VERSION, INSPECTION_CHILDREN, MODELS, S_DEVICE_NAME,
    S_PRIVATE, S_ROLE, S_STATION_DEVICE, S_STATION_ID, S_STATION_NAME, S_STATION_PUB, SYNC_ACTOR_PREFIX, TABLE_LABELS,
)
from core.sync.status import HUB_URL, LAST_RESULT, SyncStatus, describe_hub, describe_import, record_result, sync_status

__all__ = [
    "AUDITED_TABLES", "BY_TABLE", "DEFAULT_MAX_MB", "FORMAT", "FORMAT_VERSION", "HUB_URL", "INSPECTION_CHILDREN",
    "LAST_RESULT", "MODELS", "S_DEVICE_NAME", "S_PRIVATE", "S_ROLE", "S_STATION_DEVICE", "S_STATION_ID",
    "S_STATION_NAME", "S_STATION_PUB", "SYNC_ACTOR_PREFIX", "TABLE_LABELS",
    "ConflictRow", "DeviceRow", "FieldDiff", "HubClient", "HubSummary", "ImportSummary", "Package", "Resolution",
    "SyncStatus", "acked_seq", "add_device", "describe_hub", "describe_import", "enrol_device", "enrolment_file_name", "export_packages", "find_device",
    "import_package", "import_packages", "list_conflicts", "list_devices", "open_enrolment", "pending_changes",
    "private_key", "peers", "pull", "push", "read_package", "received_batch", "record_result", "record_values",
    "resolve_conflict", "revoke_device", "role", "sync_status", "claim_request", "join", "release_member",
]
