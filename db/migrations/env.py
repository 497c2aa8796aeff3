"""Alembic environment: runs on the engine handed in by ``db.engine.upgrade``."""
from __future__ import annotations

from alembic import context

from db.models import Base
from db.engine import make_engine

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, _parent_names) -> bool:
    """The FTS5 index and its shadow tables are made by hand in a migration, not by models."""
    return not (type_ == "table" and name and name.startswith("subjects_fts"))


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        context.run_migrations()


run_migrations_online()
