"""Station settings (prefixes used in document numbers) and rolling backups with restore."""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import dataclasses
import sqlite3
from datetime import datetime, timedelta

import pytest

from core import inspections as svc
from core.backup import list_backups, make_backup, restore_backup
from core.errors import InvalidInput
from core.station import get_settings, update_settings


def test_prefix_change_is_used_for_the_next_number(ctx, subject, officers):
    settings = dataclasses.replace(get_settings(ctx), inspection_prefix="连市监药检")
    update_settings(ctx, settings)
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    assert svc.load_inspection(ctx, inspection_id).number.startswith("连市监药检〔")


@pytest.mark.parametrize("change", [
    {"inspection_prefix": ""},
    {"inspection_prefix": "连〔2026〕"},
    {"rectification_prefix": "示市监药检"},
    {"device_no": 100},
    {"rectification_days": 0},
])
def test_bad_settings_are_refused_and_nothing_changes(ctx, change):
    before = get_settings(ctx)
    with pytest.raises(InvalidInput):
        update_settings(ctx, dataclasses.replace(before, **change))
    assert get_settings(ctx) == before


def test_device_number_makes_numbers_unique(ctx, subject, officers):
    update_settings(ctx, dataclasses.replace(get_settings(ctx), device_no=3))
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    assert "〕3-0001号" in svc.load_inspection(ctx, inspection_id).number


def test_backups_roll_and_restore(ctx, subject, officers):
    db = ctx.engine.url.database
    start = datetime(2026, 11, 1, 8, 0)
    for hour in range(12):
        make_backup(db, now=start + timedelta(hours=hour), keep=10)
    backups = list_backups(db)
    assert len(backups) == 10 and backups[0].name.endswith("20261101-190000.db")
    svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)  # after the backups
    ctx.close()
    restore_backup(backups[0], db)
    raw = rawdb.connect(db)
    assert raw.execute("SELECT count(*) FROM inspections").fetchone()[0] == 0
    assert raw.execute("SELECT count(*) FROM subjects").fetchone()[0] == 1
    raw.close()
    # the database as it was before the restore is itself kept as a backup
    newest = rawdb.connect(list_backups(db)[0])
    assert newest.execute("SELECT count(*) FROM inspections").fetchone()[0] == 1
    newest.close()


def test_corrupt_backup_is_not_restored(ctx, tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    db = ctx.engine.url.database
    ctx.close()
    before = open(db, "rb").read()
    with pytest.raises(InvalidInput):
        restore_backup(bad, db)
    assert open(db, "rb").read() == before
