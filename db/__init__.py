"""Persistence: SQLAlchemy models, engine set-up and Alembic migrations.

Knows nothing of ``core`` or ``gui``.
"""
