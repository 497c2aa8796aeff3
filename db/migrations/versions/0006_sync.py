"""Batch sync bookkeeping: devices, sync_batches, sync_peers, sync_base, sync_conflicts

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'devices',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('public_key', sa.String(length=64), nullable=False),
        sa.Column('device_no', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
        sa.UniqueConstraint('device_no'),
    )
    op.create_table(
        'sync_batches',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('peer_id', sa.String(length=36), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('audit_upto', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('direction', 'peer_id', 'seq'),
    )
    op.create_table(
        'sync_peers',
        sa.Column('peer_id', sa.String(length=36), nullable=False),
        sa.Column('last_imported_seq', sa.Integer(), nullable=False),
        sa.Column('acked_seq', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('peer_id'),
    )
    op.create_table(
        'sync_base',
        sa.Column('peer_id', sa.String(length=36), nullable=False),
        sa.Column('table_name', sa.String(length=64), nullable=False),
        sa.Column('record_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('peer_id', 'table_name', 'record_id'),
    )
    op.create_table(
        'sync_conflicts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('table_name', sa.String(length=64), nullable=False),
        sa.Column('record_id', sa.String(length=64), nullable=False),
        sa.Column('local_json', sa.Text(), nullable=False),
        sa.Column('remote_json', sa.Text(), nullable=False),
        sa.Column('from_device', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_sync_conflicts_record_id', 'sync_conflicts', ['record_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sync_conflicts_record_id', table_name='sync_conflicts')
    op.drop_table('sync_conflicts')
    op.drop_table('sync_base')
    op.drop_table('sync_peers')
    op.drop_table('sync_batches')
    op.drop_table('devices')
