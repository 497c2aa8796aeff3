"""Covering indexes for the statistics' look-ups at city scale (docs/statistics.md "Speed")

Revision ID: 0016
Revises: 0015

``ix_subjects_stats`` holds what the statistics read of a subject (its category, grid,
status and entry time, by id): building the period table looks each inspection's subject up
in it without reading the wide subject row, and the register count (coverage) scans it
instead of the table. ``ix_inspection_officers_names`` does the same for the officers'
names by inspection (the by-inspector breakdown). ``ix_rectifications_closed`` (status,
closing time) finds the period's completed orders and, with ``ix_rectifications_closed_at``,
the orders still unresolved at a period's end (the overdue figure) without walking every
signed inspection. Indexes only: no data changes.
"""
from __future__ import annotations

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_subjects_stats", "subjects", ["id", "category", "grid", "status", "created_at"]),
    ("ix_inspection_officers_names", "inspection_officers", ["inspection_id", "name"]),
    ("ix_rectifications_closed", "rectifications", ["status", "closed_at"]),
    ("ix_rectifications_closed_at", "rectifications", ["closed_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
