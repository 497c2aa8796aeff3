"""The suite's schema replay (tests/support/schema_template.py) gives exactly what the migration walk gives."""
from __future__ import annotations

from datetime import datetime

import pytest

from core.context import AppContext
from tests.support import rawdb, schema_template


def _schema(objects: list[tuple]) -> list[tuple]:
    """The schema objects, each statement's lines as a sorted list: two walks of the migrations
    themselves differ in the order of a few constraints and indexes (Alembic's batch rebuilds)."""
    return sorted((kind, name, table, sorted(line.strip().rstrip(",") for line in (sql or "").splitlines()))
                  for kind, name, table, sql in objects)


def _contents(db) -> dict:
    conn = rawdb.connect(db)
    try:
        objects = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()
        rows = {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
                for kind, name, _t, sql in objects if kind == "table" and not (sql or "").startswith("CREATE VIRTUAL")}
        pragmas = {p: conn.execute(f"PRAGMA {p}").fetchone()[0]
                   for p in ("user_version", "application_id", "journal_mode", "auto_vacuum", "page_size")}
        return {"objects": objects, "rows": rows, "pragmas": pragmas,
                "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0]}
    finally:
        conn.close()


def _open(path, *, replay: bool) -> dict:
    was, schema_template.enabled = schema_template.enabled, replay
    before = schema_template.replayed
    try:
        AppContext.open(path).close()
    finally:
        schema_template.enabled = was
    assert schema_template.replayed == before + (1 if replay else 0)  # the replay was (not) used
    return _contents(path)


def test_a_replayed_database_is_the_walked_one(tmp_path):
    started = datetime.now().replace(microsecond=0)
    walked = _open(tmp_path / "walked" / "station.db", replay=False)
    replayed = _open(tmp_path / "replayed" / "station.db", replay=True)
    assert len(walked["objects"]) > 100 and _schema(replayed["objects"]) == _schema(walked["objects"])
    assert replayed["pragmas"] == walked["pragmas"] and replayed["integrity"] == "ok"
    # every row the migrations wrote, and what opening the station wrote after them; the values
    # that differ between any two new databases (ids, keys, times) are compared by their form
    assert sorted(replayed["rows"]) == sorted(walked["rows"])
    varying = {"settings", "audit_log", "devices", "audit_anchors"}
    for table, rows in walked["rows"].items():
        if table not in varying:
            assert replayed["rows"][table] == rows, table
        else:
            assert len(replayed["rows"][table]) == len(rows), table
    settings = [dict(rows) for rows in (walked["rows"]["settings"], replayed["rows"]["settings"])]
    assert settings[0].keys() == settings[1].keys() and "officer_keys.since" in settings[1]
    assert datetime.fromisoformat(settings[1]["officer_keys.since"]) >= started  # the upgrade's time, not the template's


@pytest.mark.real_migrations
def test_a_test_marked_real_migrations_walks_them(tmp_path):
    assert schema_template.enabled is False
    before = schema_template.replayed
    AppContext.open(tmp_path / "station.db").close()
    assert schema_template.replayed == before
