"""The statistics summary's tables and the SQLite triggers that keep its dirty months (revision 0024).

``core.stats.summary`` keeps, per (month, station, breakdown, key), the set of subjects inspected
and the number of inspections (``stats_sets``), so that 检查家次 / 户数 over whole months are read
as unions instead of counted again (docs/statistics.md "Fifth round"). The summary is derived data:
never synced, never audited, rebuildable from the records at any time. SQLite only: on PostgreSQL
the figure is counted from the records and these tables do not exist.

Keeping it right is the database's job, not each writer's: the triggers below mark the month of
every signed inspection whose count or breakdown keys a change can alter (``stats_dirty``), on
every path — the ORM, the sync import's bulk ``INSERT``s, raw SQL. The figure recomputes a dirty
month from the records before it reads it. What a signed inspection's keys are read from: the
inspection (status, signing time, kind, purpose, checklist code, subject, device), its officers,
its subject's current category and grid, its task (re-inspection) and the task's reasons (plan,
trigger event and the event's source), and ``station_devices`` (the device's station).

``stats_subject_keys`` gives each subject a small stable integer (an ``INTEGER PRIMARY KEY``, which
``VACUUM`` keeps) for the sets; a subject's implicit rowid could change.

A migration that rebuilds one of these tables (SQLite's batch mode copies a table and drops its
triggers) must call ``drop`` before and ``create`` after, as it does for ``db.signed_lock``.
"""
from __future__ import annotations

SETS = "stats_sets"
DIRTY = "stats_dirty"
KEYS = "stats_subject_keys"
TABLES = (SETS, DIRTY, KEYS)

_TABLES_SQL = (
    f"""CREATE TABLE {SETS} (
        month VARCHAR(7) NOT NULL, station VARCHAR(200) NOT NULL, dim VARCHAR(16) NOT NULL,
        key VARCHAR(200) NOT NULL, n INTEGER NOT NULL, members BLOB NOT NULL,
        PRIMARY KEY (month, station, dim, key))""",
    f"CREATE TABLE {DIRTY} (month VARCHAR(7) NOT NULL PRIMARY KEY)",
    f"CREATE TABLE {KEYS} (key INTEGER PRIMARY KEY, subject_id VARCHAR(36) NOT NULL UNIQUE)",
)


def _mark(select_months: str) -> str:
    return f"INSERT OR IGNORE INTO {DIRTY} (month) {select_months};"


def _of_inspection(column: str) -> str:
    """The month of inspection ``column`` if it is signed."""
    return _mark(f"SELECT substr(signed_at, 1, 7) FROM inspections WHERE id = {column} AND status = 'signed' "
                 "AND signed_at IS NOT NULL")


def _of_task(column: str) -> str:
    return _mark("SELECT substr(i.signed_at, 1, 7) FROM inspection_tasks t JOIN inspections i ON i.id = t.inspection_id "
                 f"WHERE t.id = {column} AND i.status = 'signed' AND i.signed_at IS NOT NULL")


def _of_event(column: str) -> str:
    return _mark("SELECT substr(i.signed_at, 1, 7) FROM task_reasons r JOIN inspection_tasks t ON t.id = r.task_id "
                 f"JOIN inspections i ON i.id = t.inspection_id WHERE r.event_id = {column} AND i.status = 'signed' "
                 "AND i.signed_at IS NOT NULL")


def _of_subject(column: str) -> str:
    return _mark(f"SELECT substr(signed_at, 1, 7) FROM inspections WHERE subject_id = {column} AND status = 'signed' "
                 "AND signed_at IS NOT NULL")


def _of_device(column: str) -> str:
    return _mark(f"SELECT substr(signed_at, 1, 7) FROM inspections WHERE device_id = {column} AND status = 'signed' "
                 "AND signed_at IS NOT NULL")


def _own(row: str) -> str:
    return _mark(f"SELECT substr({row}.signed_at, 1, 7) WHERE {row}.status = 'signed' AND {row}.signed_at IS NOT NULL")


INSPECTION_COLUMNS = "status, signed_at, kind, purpose, template_code, subject_id, device_id"

# (name, table, event, body)
_TRIGGERS = (
    ("stats_inspections_ai", "inspections", "INSERT", _own("NEW")),
    ("stats_inspections_au", "inspections", f"UPDATE OF {INSPECTION_COLUMNS}", _own("OLD") + _own("NEW")),
    ("stats_inspections_ad", "inspections", "DELETE", _own("OLD")),
    ("stats_officers_ai", "inspection_officers", "INSERT", _of_inspection("NEW.inspection_id")),
    ("stats_officers_au", "inspection_officers", "UPDATE",
     _of_inspection("OLD.inspection_id") + _of_inspection("NEW.inspection_id")),
    ("stats_officers_ad", "inspection_officers", "DELETE", _of_inspection("OLD.inspection_id")),
    ("stats_subjects_au", "subjects", "UPDATE OF id, category, grid", _of_subject("OLD.id") + _of_subject("NEW.id")),
    ("stats_subjects_ad", "subjects", "DELETE", _of_subject("OLD.id")),
    ("stats_tasks_ai", "inspection_tasks", "INSERT", _of_inspection("NEW.inspection_id")),
    ("stats_tasks_au", "inspection_tasks", "UPDATE OF id, inspection_id, rectification_id",
     _of_inspection("OLD.inspection_id") + _of_inspection("NEW.inspection_id")),
    ("stats_tasks_ad", "inspection_tasks", "DELETE", _of_inspection("OLD.inspection_id")),
    ("stats_reasons_ai", "task_reasons", "INSERT", _of_task("NEW.task_id")),
    ("stats_reasons_au", "task_reasons", "UPDATE OF task_id, event_id, plan_id",
     _of_task("OLD.task_id") + _of_task("NEW.task_id")),
    ("stats_reasons_ad", "task_reasons", "DELETE", _of_task("OLD.task_id")),
    ("stats_events_ai", "trigger_events", "INSERT", _of_event("NEW.id")),
    ("stats_events_au", "trigger_events", "UPDATE OF id, source", _of_event("OLD.id") + _of_event("NEW.id")),
    ("stats_events_ad", "trigger_events", "DELETE", _of_event("OLD.id")),
    ("stats_station_devices_ai", "station_devices", "INSERT", _of_device("NEW.device_id")),
    ("stats_station_devices_au", "station_devices", "UPDATE",
     _of_device("OLD.device_id") + _of_device("NEW.device_id")),
    ("stats_station_devices_ad", "station_devices", "DELETE", _of_device("OLD.device_id")),
)
TRIGGER_NAMES = tuple(t[0] for t in _TRIGGERS)


def create(connection) -> None:
    """The triggers (SQLite; nothing elsewhere)."""
    if connection.dialect.name != "sqlite":
        return
    for name, table, when, body in _TRIGGERS:
        connection.exec_driver_sql(f"CREATE TRIGGER {name} AFTER {when} ON {table} FOR EACH ROW BEGIN {body} END")


def drop(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    for name in TRIGGER_NAMES:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def create_tables(connection) -> None:
    """The three tables, the triggers, and every month that has a signed inspection marked dirty
    (the summary is then built from the records month by month when first read, or at once by
    ``core.stats.summary.rebuild``)."""
    if connection.dialect.name != "sqlite":
        return
    for statement in _TABLES_SQL:
        connection.exec_driver_sql(statement)
    create(connection)
    connection.exec_driver_sql(_mark("SELECT DISTINCT substr(signed_at, 1, 7) FROM inspections "
                                     "WHERE status = 'signed' AND signed_at IS NOT NULL").rstrip(";"))


def drop_tables(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    drop(connection)
    for table in TABLES:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
