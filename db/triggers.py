"""Installing and removing a set of lock triggers on SQLite or PostgreSQL.

``db.signed_lock`` (signed inspections) and ``db.document_lock`` (signed one-row documents)
each describe their triggers — SQLite ``CREATE TRIGGER`` statements, and on PostgreSQL the
functions' SQL plus (name, table, body) per trigger — and install them through these two.
"""
from __future__ import annotations

from typing import Iterable


def create_set(connection, *, sqlite_statements: Iterable[str], pg_functions: str,
               pg_triggers: Iterable[tuple[str, str, str]], what: str) -> None:
    if connection.dialect.name == "sqlite":
        for statement in sqlite_statements:
            connection.exec_driver_sql(statement)
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(pg_functions)
        for name, _table, body in pg_triggers:
            connection.exec_driver_sql(f"CREATE TRIGGER {name} {body}")
    else:  # pragma: no cover - the app runs on these two
        raise NotImplementedError(f"no {what} for {connection.dialect.name}")


def drop_set(connection, *, sqlite_names: Iterable[str], pg_triggers: Iterable[tuple[str, str, str]],
             pg_functions: Iterable[str]) -> None:
    """Drop the triggers (and, on PostgreSQL, their functions, named with their argument types)."""
    if connection.dialect.name == "sqlite":
        for name in sqlite_names:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    elif connection.dialect.name == "postgresql":
        for name, table, _body in pg_triggers:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in pg_functions:
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}")
