"""A new test database gets the head schema replayed from a template instead of the migration walk.

Creating a database walks every Alembic migration from 0001 (about 0.5–1 s here: ~170
statements, batch rebuilds of tables), and most tests create one or more. In the test process
(never in a subprocess: the CLI tests run the app as it is), ``install`` wraps
``alembic.command.upgrade`` so that an upgrade to "head" of an EMPTY SQLite database inside
``db.engine.upgrade`` (the app's own transaction, error mapping and checks around it) replays
what the real walk built: the schema objects in the order the walk left them in ``sqlite_master``
(the same SQL text), then the rows the migrations wrote. The template is built once per process by
the real walk (``db.engine.upgrade``). ``officer_keys.since`` (0017 writes the time of the upgrade)
is written with the time of this upgrade, as the migration would.

The real walk is used instead when: the database is not SQLite or not empty, a ``progress``
callback watches the steps, the test is marked ``real_migrations`` (tests about migrations,
the first open's atomicity under kill -9, ...; ``tests/conftest.py`` sets ``enabled`` per test),
or ``YXJC_TEST_REAL_MIGRATIONS=1``. ``tests/integration/test_schema_template.py`` checks that
a replayed database equals a walked one, object for object and row for row.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

# rows whose value the migration computes when it runs: written afresh, as the migration would
FRESH_VALUES: dict[tuple[str, str], Callable[[], str]] = {
    ("settings", "officer_keys.since"): lambda: datetime.now().replace(microsecond=0).isoformat(),
}
SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")

enabled = os.environ.get("YXJC_TEST_REAL_MIGRATIONS") != "1"
replayed = 0  # how many databases got the replay (the equivalence test checks it is used)
_real_upgrade: Callable[..., Any] | None = None
_template: dict[str, Any] | None = None


def _build_template() -> dict[str, Any]:
    """Walk the migrations once on a plain file and read back what they made."""
    from db.engine import make_engine, upgrade

    path = Path(tempfile.mkdtemp(prefix="yxjc-test-schema-")) / "schema.db"
    global enabled
    was, enabled = enabled, False
    try:
        engine = make_engine(path)
        upgrade(engine)
        engine.dispose()
    finally:
        enabled = was
    conn = sqlite3.connect(path)
    try:
        objects = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                               "ORDER BY rowid").fetchall()
        virtual = [n for t, n, sql in objects if t == "table" and sql.upper().startswith("CREATE VIRTUAL TABLE")]
        shadows = {f"{v}{s}" for v in virtual for s in SHADOW_SUFFIXES}
        rows = {}
        for kind, name, _sql in objects:
            if kind != "table" or name in virtual:
                continue
            cursor = conn.execute(f'SELECT * FROM "{name}"')
            found = cursor.fetchall()
            if found:
                rows[name] = ([d[0] for d in cursor.description], found)
        user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return {"objects": [(t, n, sql) for t, n, sql in objects if n not in shadows], "shadows": shadows,
            "rows": rows, "user_version": user_version}


def _fresh(table: str, columns: list[str], row: tuple) -> tuple:
    if table == "settings" and len(row) >= 2:
        make = FRESH_VALUES.get((table, row[columns.index("key")]))
        if make is not None:
            values = list(row)
            values[columns.index("value")] = make()
            return tuple(values)
    return row


def replay(connection) -> None:
    """Build the head schema and its rows on ``connection`` (empty, inside the upgrade's transaction)."""
    global _template, replayed
    if _template is None:
        _template = _build_template()
    for _kind, _name, sql in _template["objects"]:
        connection.exec_driver_sql(sql)
    for table, (columns, rows) in _template["rows"].items():
        if table in _template["shadows"] or table == "sqlite_sequence":
            connection.exec_driver_sql(f'DELETE FROM "{table}"')  # made with the virtual table: as the walk left it
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                                   [_fresh(table, columns, r) for r in rows])
    if _template["user_version"]:
        connection.exec_driver_sql(f"PRAGMA user_version = {int(_template['user_version'])}")
    replayed += 1


def _is_empty_sqlite(connection) -> bool:
    if connection.dialect.name != "sqlite":
        return False
    return connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() == 0


def _upgrade(config, revision, *args, **kwargs):
    connection = config.attributes.get("connection")
    if (enabled and revision == "head" and not args and not kwargs and connection is not None
            and config.attributes.get("progress") is None and _is_empty_sqlite(connection)):
        replay(connection)
        return None
    return _real_upgrade(config, revision, *args, **kwargs)


def install() -> None:
    """Wrap ``alembic.command.upgrade`` in this process (once)."""
    global _real_upgrade
    from alembic import command

    if _real_upgrade is None:
        _real_upgrade = command.upgrade
        command.upgrade = _upgrade
