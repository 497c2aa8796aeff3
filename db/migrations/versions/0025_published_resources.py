"""Published resources: checklists, trigger rules, grade tables and register synonyms as synced data

Revision ID: 0025
Revises: 0023

A station, county or city publishes a new version of a checklist or of the rules for the levels
below (docs/levels.md "What goes down"); the rows travel down in the sync packages and the
loaders use them beside the shipped files (``core.published``). One new table, no data changes.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "published_resources",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("resource_version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
    )
    op.create_index("ix_published_resources_kind_name", "published_resources", ["kind", "name", "resource_version"])


def downgrade() -> None:
    op.drop_index("ix_published_resources_kind_name", table_name="published_resources")
    op.drop_table("published_resources")
