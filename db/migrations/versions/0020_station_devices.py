"""Stations in one database: which station each device's records belong to (docs/statistics.md "Stations")

Revision ID: 0020
Revises: 0018

A county's or a city's database holds several stations' records; each record keeps the id of
the device that created it. ``station_devices`` names the station of each such device (a
device not listed belongs to this database's own station), so the statistics can count one
station, several or all, and break the figures down by station. New table only.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station_devices",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("station", sa.String(length=200), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("device_id"),
    )
    op.create_index("ix_station_devices_station", "station_devices", ["station"])


def downgrade() -> None:
    op.drop_index("ix_station_devices_station", table_name="station_devices")
    op.drop_table("station_devices")
