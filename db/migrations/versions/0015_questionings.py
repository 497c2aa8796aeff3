"""询问笔录 and 送达回证: tables questionings, service_receipts

Revision ID: 0015
Revises: 0014
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'questionings',
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('inspection_id', sa.String(length=36), nullable=True),
        sa.Column('subject_id', sa.String(length=36), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('content_json', sa.Text(), nullable=False),
        sa.Column('signatures_json', sa.Text(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=True),
        sa.Column('signed_at', sa.DateTime(), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id']),
        sa.ForeignKeyConstraint(['subject_id'], ['subjects.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
    )
    op.create_index('ix_questionings_inspection_id', 'questionings', ['inspection_id'], unique=False)
    op.create_index('ix_questionings_subject_id', 'questionings', ['subject_id'], unique=False)
    op.create_table(
        'service_receipts',
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('inspection_id', sa.String(length=36), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('content_json', sa.Text(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
    )
    op.create_index('ix_service_receipts_inspection_id', 'service_receipts', ['inspection_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_service_receipts_inspection_id', table_name='service_receipts')
    op.drop_table('service_receipts')
    op.drop_index('ix_questionings_subject_id', table_name='questionings')
    op.drop_index('ix_questionings_inspection_id', table_name='questionings')
    op.drop_table('questionings')
