"""An index on every foreign-key column that had none

Revision ID: 0014
Revises: 0011

While a transaction holds an unresolved deferred foreign key — a sync import does, from
its first ``signed_lock_fresh`` marker to its commit — SQLite checks every row inserted
into a parent table against its child tables; without an index on the child's column that
is a scan of the whole child table per row. ``rectifications.reinspection_id`` had none:
at city scale (110k orders) every inspection a sync import inserted cost ≈ 16 ms, a
10,000-inspection package minutes. The other unindexed foreign keys get theirs too.
"""
from __future__ import annotations

from alembic import op

revision = '0014'
down_revision = '0011'
branch_labels = None
depends_on = None

INDEXES = (
    ("inspections", "template_sha"),
    ("rectifications", "reinspection_id"),
    ("leads", "assigned_to"),
    ("leads", "event_id"),
    ("grade_changes", "event_id"),
    ("inspection_tasks", "rectification_id"),
    ("task_reasons", "event_id"),
    ("task_reasons", "plan_id"),
    ("signed_lock_fresh", "cleared"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
