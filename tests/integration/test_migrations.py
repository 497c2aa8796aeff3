"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.engine import current_revision, head_revision, open_database
from db.models import Base


def test_migrated_schema_matches_models(tmp_path):
    engine, _ = open_database(tmp_path / "m.db")
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_reopening_is_a_no_op(tmp_path):
    engine, _ = open_database(tmp_path / "m.db")
    engine.dispose()
    engine, _ = open_database(tmp_path / "m.db")
    assert current_revision(engine) == head_revision()
