"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db import stats_summary
from db.engine import current_revision, head_revision, open_database
from db.models import Base

pytestmark = pytest.mark.real_migrations  # new databases here walk every migration (no schema replay)


def _not_fts(name, type_, _parents) -> bool:
    # the FTS tables, and the statistics summary (db/stats_summary.py: SQLite only, not in the models)
    return not (type_ == "table" and name and (name.startswith(("subjects_fts", "subject_gram"))
                                               or name in stats_summary.TABLES))


def test_migrated_schema_matches_models(tmp_path):
    engine, _ = open_database(tmp_path / "m.db")
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _not_fts})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_head_constant_matches_the_scripts():
    from db.engine import HEAD

    assert HEAD == head_revision()


def test_reopening_is_a_no_op(tmp_path):
    engine, _ = open_database(tmp_path / "m.db")
    engine.dispose()
    engine, _ = open_database(tmp_path / "m.db")
    assert current_revision(engine) == head_revision()


def test_upgrade_from_every_earlier_revision_keeps_data(tmp_path):
    """A station database from each earlier schema upgrades to the newest with its records."""
    import sqlite3

    from alembic import command

    from db.engine import _alembic_config, make_engine

    for revision in ("0001", "0002", "0003"):
        path = tmp_path / f"old-{revision}.db"
        engine = make_engine(path)
        command.upgrade(_alembic_config(engine), revision)
        engine.dispose()
        raw = rawdb.connect(path)
        raw.execute("INSERT INTO subjects (id, name, credit_code, category, licence_no, filing_no, legal_rep, address,"
                    " phone, grid, status, created_at, updated_at, version, device_id) VALUES ('s1', '老店', NULL,"
                    " 'other', '', '', '', '老街1号', '', '', 'active', '2026-01-01', '2026-01-01', 1, 'd')")
        raw.commit()
        raw.close()
        engine, _ = open_database(path)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM subjects").scalar() == "老店"
            hits = conn.exec_driver_sql("SELECT rowid FROM subjects_fts WHERE subjects_fts MATCH '\"老街1\"'").all()
            assert len(hits) == 1
        engine.dispose()


def test_inspections_from_0004_move_their_template_into_shared_snapshots(tmp_path):
    import sqlite3

    from alembic import command

    from core.checklists import load_templates
    from core.context import AppContext
    from core.inspections import load_inspection
    from db.engine import _alembic_config, make_engine

    path = tmp_path / "old.db"
    engine = make_engine(path)
    command.upgrade(_alembic_config(engine), "0004")
    engine.dispose()
    text = load_templates()["cosmetics-531"].to_json()
    raw = rawdb.connect(path)
    raw.execute("INSERT INTO subjects (id, name, credit_code, category, licence_no, filing_no, legal_rep, address,"
                " phone, grid, status, created_at, updated_at, version, device_id) VALUES ('s1', '老店', NULL,"
                " 'other', '', '', '', '老街1号', '', '', 'active', '2026-01-01', '2026-01-01', 1, 'd')")
    for n in (1, 2):
        raw.execute("INSERT INTO inspections (id, number, subject_id, template_code, template_version, template_json,"
                    " party_json, kind, purpose, status, place, notified_by, started_at, findings, party_statement,"
                    " party_present_name, party_refused, witness_name, created_at, updated_at, version, device_id)"
                    " VALUES (?, ?, 's1', 'cosmetics-531', 1, ?, '{\"name\": \"老店\"}', 'enforcement', 'regular',"
                    " 'draft', '', '', '2026-01-02 09:00:00', '', '', '', 0, '', '2026-01-02', '2026-01-02', 1, 'd')",
                    (f"i{n}", f"旧〔2026〕{n}号", text))
    raw.commit()
    raw.close()
    ctx = AppContext.open(path)
    assert load_inspection(ctx, "i1").template.to_json() == text
    with ctx.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM template_snapshots").scalar() == 1
    ctx.close()


def test_known_revisions_are_the_scripts_revisions():
    from alembic.script import ScriptDirectory

    from db.engine import MIGRATIONS_DIR, known_revisions

    scripts = {s.revision for s in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
    assert len(scripts) >= 6 and known_revisions() == scripts


def test_a_rebuilt_table_keeps_the_rows_that_refer_to_it(tmp_path):
    """0005 rebuilds ``inspections`` (SQLite's ALTER by copy): with foreign keys on, dropping the old
    table failed when an item result referred to it. Migrations now run with them off and check
    them before commit."""
    import sqlite3

    from alembic import command

    from db.engine import _alembic_config, make_engine

    path = tmp_path / "old.db"
    engine = make_engine(path)
    command.upgrade(_alembic_config(engine), "0004")
    engine.dispose()
    raw = rawdb.connect(path)
    raw.execute("INSERT INTO subjects (id, name, credit_code, category, licence_no, filing_no, legal_rep, address,"
                " phone, grid, status, created_at, updated_at, version, device_id) VALUES ('s1', '老店', NULL,"
                " 'other', '', '', '', '老街1号', '', '', 'active', '2026-01-01', '2026-01-01', 1, 'd')")
    raw.execute("INSERT INTO inspections (id, number, subject_id, template_code, template_version, template_json,"
                " party_json, kind, purpose, status, place, notified_by, started_at, findings, party_statement,"
                " party_present_name, party_refused, witness_name, created_at, updated_at, version, device_id)"
                " VALUES ('i1', '旧〔2026〕1号', 's1', 'cosmetics-531', 1, '{}', '{}', 'enforcement', 'regular',"
                " 'draft', '', '', '2026-01-02 09:00:00', '', '', '', 0, '', '2026-01-02', '2026-01-02', 1, 'd')")
    raw.execute("INSERT INTO item_results (id, inspection_id, item_code, result, note, created_at, updated_at,"
                " version, device_id) VALUES ('r1', 'i1', 'A1', 'pass', '', '2026-01-02', '2026-01-02', 1, 'd')")
    raw.commit()
    raw.close()
    engine, _ = open_database(path)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT inspection_id FROM item_results").all() == [("i1",)]
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()


def _model_unique_sets(table) -> set[tuple[str, ...]]:
    from sqlalchemy import UniqueConstraint

    sets = {tuple(sorted(c.name for c in table.primary_key.columns))}
    sets |= {(c.name,) for c in table.columns if c.unique}
    sets |= {tuple(sorted(c.name for c in k.columns)) for k in table.constraints if isinstance(k, UniqueConstraint)}
    sets |= {tuple(sorted(c.name for c in i.columns)) for i in table.indexes if i.unique}
    return sets


def test_every_unique_rule_of_the_models_is_in_the_migrated_schema_and_no_other(tmp_path):
    """What compare_metadata does not see on SQLite: a ``unique=True`` dropped from a column (or
    added) without a migration, or a migration's unique index the models do not declare."""
    from sqlalchemy import text

    engine, _ = open_database(tmp_path / "m.db")
    checked = 0
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar()  # the schema read in first
        for table in Base.metadata.sorted_tables:
            found = set()
            for row in conn.execute(text(f"PRAGMA index_list('{table.name}')")).mappings().all():
                if row["unique"] and row["partial"] == 0:
                    cols = [r["name"] for r in conn.execute(text(f"PRAGMA index_info('{row['name']}')")).mappings().all()]
                    found.add(tuple(sorted(cols)))
            pk = tuple(sorted(c.name for c in table.primary_key.columns))
            found.add(pk)  # an INTEGER PRIMARY KEY has no index of its own
            expected = _model_unique_sets(table)
            assert found == expected, table.name
            checked += 1
    assert checked == len(Base.metadata.tables) > 20
