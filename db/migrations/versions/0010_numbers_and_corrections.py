"""The void register (作废登记) and corrections (更正) of signed records

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _sync_columns() -> list:
    return [
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        'voided_numbers',
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('doc_kind', sa.String(length=16), nullable=False),
        sa.Column('inspection_id', sa.String(length=36), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('voided_by', sa.String(length=64), nullable=False),
        sa.Column('voided_at', sa.DateTime(), nullable=False),
        *_sync_columns(),
        sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
    )
    op.create_index('ix_voided_numbers_inspection_id', 'voided_numbers', ['inspection_id'], unique=False)
    op.create_table(
        'corrections',
        sa.Column('inspection_id', sa.String(length=36), nullable=False),
        sa.Column('original_id', sa.String(length=36), nullable=False),
        sa.Column('original_number', sa.String(length=64), nullable=False),
        sa.Column('statement', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('approved_by', sa.String(length=64), nullable=False),
        sa.Column('approved_at', sa.DateTime(), nullable=True),
        sa.Column('approved_hash', sa.String(length=64), nullable=False),
        *_sync_columns(),
        sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id']),
        sa.ForeignKeyConstraint(['original_id'], ['inspections.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('inspection_id'),
    )
    op.create_index('ix_corrections_original_id', 'corrections', ['original_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_corrections_original_id', table_name='corrections')
    op.drop_table('corrections')
    op.drop_index('ix_voided_numbers_inspection_id', table_name='voided_numbers')
    op.drop_table('voided_numbers')
