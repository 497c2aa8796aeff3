"""Levels: a registered device is a laptop or a station (docs/levels.md)

Revision ID: 0022
Revises: 0017

A county (or a city) registers its stations (or counties) the way a station registers its
laptops, in the same ``devices`` table; ``kind`` tells them apart ("laptop", "station"). Every
row there before is a laptop (the default). One new column, no data changes.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="laptop"))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("kind")
