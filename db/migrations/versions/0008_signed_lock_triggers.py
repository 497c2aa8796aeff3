"""The signed-record lock as database triggers, and the audit anchors table

Revision ID: 0008
Revises: 0007

``db.signed_lock`` holds the triggers (SQLite and PostgreSQL) and documents them; the
``signed_lock_fresh`` table marks the inspections the current transaction signs.
``audit_anchors`` holds sealed heads of audit chains (``core.anchors``). A later migration
that must rewrite signed rows uses ``db.signed_rewrite.rewrite_signed_rows``.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db import signed_lock

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'signed_lock_fresh',
        sa.Column('inspection_id', sa.String(length=36), nullable=False),
        sa.Column('cleared', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['cleared'], ['signed_lock_fresh.inspection_id'],
                                deferrable=True, initially='DEFERRED'),
        sa.PrimaryKeyConstraint('inspection_id'),
    )
    op.create_table(
        'audit_anchors',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('at', sa.String(length=32), nullable=False),
        sa.Column('public_key', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.String(length=128), nullable=False),
        sa.Column('stored_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_anchors_device_id', 'audit_anchors', ['device_id'], unique=False)
    signed_lock.create(op.get_bind())


def downgrade() -> None:
    signed_lock.drop(op.get_bind())
    op.drop_index('ix_audit_anchors_device_id', table_name='audit_anchors')
    op.drop_table('audit_anchors')
    op.drop_table('signed_lock_fresh')
