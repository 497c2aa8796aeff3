"""Alembic environment: runs on the connection (or engine) handed in by ``db.engine``.

``db.engine.upgrade`` hands in a connection already inside one real transaction (see
``db.engine.migration_connection``): Alembic then treats it as external and runs every
migration in it, so the whole upgrade commits or rolls back as one. Given only an engine
(tests building an old schema), the same kind of transaction is opened here.
"""
from __future__ import annotations

from alembic import context

from db.engine import make_engine, migration_connection
from db.models import Base

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, _parent_names) -> bool:
    """The FTS5 index and its shadow tables, and the short-search index (0019), are made by hand in migrations."""
    return not (type_ == "table" and name and name.startswith(("subjects_fts", "subject_gram")))


def _step_done(ctx, step, heads, run_args) -> None:
    """Alembic's ``on_version_apply``: tell ``db.engine.upgrade``'s caller a step is done."""
    progress = config.attributes.get("progress")
    if progress is not None:
        progress(step.up_revision_id)


def _run(connection) -> None:
    context.configure(
        on_version_apply=_step_done,
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_name=include_name,
        transactional_ddl=True,
        transaction_per_migration=False,
    )
    context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))
    with migration_connection(engine) as connection:
        _run(connection)


run_migrations_online()
