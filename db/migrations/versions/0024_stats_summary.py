"""The statistics summary: per-month subject sets for 检查家次 / 户数 (SQLite only)

Revision ID: 0024
Revises: 0025

``db.stats_summary``: three tables (the sets, the dirty months, the subjects' set keys) and the
triggers that mark a month dirty when a change can alter its figure; every month that already has
a signed inspection is marked dirty here, so the summary is built from the records when a figure
first reads it (or at once: ``python main.py stats rebuild-summary --db PATH``). Derived data: on
PostgreSQL nothing is created (the figure is counted from the records there). On both engines an
index on the inspections' device lets the ``station_devices`` trigger find a device's records.
"""
from __future__ import annotations

from alembic import op

from db import stats_summary

revision = '0024'
down_revision = '0025'
branch_labels = None
depends_on = None

DEVICE_INDEX = "ix_inspections_device_signed"


def upgrade() -> None:
    bind = op.get_bind()
    op.create_index(DEVICE_INDEX, "inspections", ["device_id", "status", "signed_at"])
    stats_summary.create_tables(bind)


def downgrade() -> None:
    bind = op.get_bind()
    stats_summary.drop_tables(bind)
    op.drop_index(DEVICE_INDEX, table_name="inspections")
