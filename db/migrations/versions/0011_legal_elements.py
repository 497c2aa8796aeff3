"""Legal elements of the printed forms: one JSON column on inspections

Revision ID: 0011
Revises: 0010

``inspections.legal_json`` holds what the 现场检查笔录 and the 责令改正通知书 record beyond
the original columns (the party's answers to the 告知, the ID number of the person present,
the witness's unit and phone, the body-camera recording, the case of each failed item, the
print mode, the canonical-form version). Existing rows get ``{}``: canonical v1, so every
record signed before keeps verifying. ``ADD COLUMN`` fires no UPDATE trigger, so the
signed-record lock (0008) is not touched.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('inspections', sa.Column('legal_json', sa.Text(), nullable=False, server_default='{}'))
    # scans of the signed paper originals, attached after a record printed for wet signatures
    # was locked (a table of its own: the signed-record lock refuses new rows of the record's own)
    op.create_table('paper_scans',
    sa.Column('inspection_id', sa.String(length=36), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('ext', sa.String(length=8), nullable=False),
    sa.Column('original_name', sa.String(length=260), nullable=False),
    sa.Column('attached_by', sa.String(length=64), nullable=False),
    sa.Column('attached_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_paper_scans_inspection_id', 'paper_scans', ['inspection_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_paper_scans_inspection_id', table_name='paper_scans')
    op.drop_table('paper_scans')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_column('legal_json')
