"""Case paperwork (table case_documents) and the database lock of one-row documents

Revision ID: 0018
Revises: 0016

``case_documents`` holds 案件来源登记表, 立案审批表, 先行登记保存证据通知书 and its 解除,
送达地址确认书 (``core.casework``). ``db.document_lock`` adds triggers that refuse any change
or delete of a signed 询问笔录, 送达回证 or case document (the ORM refused it already).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db import document_lock

revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_documents',
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('inspection_id', sa.String(length=36), nullable=True),
        sa.Column('subject_id', sa.String(length=36), nullable=True),
        sa.Column('parent_id', sa.String(length=36), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('content_json', sa.Text(), nullable=False),
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
        sa.ForeignKeyConstraint(['parent_id'], ['case_documents.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
    )
    op.create_index('ix_case_documents_kind', 'case_documents', ['kind'], unique=False)
    op.create_index('ix_case_documents_inspection_id', 'case_documents', ['inspection_id'], unique=False)
    op.create_index('ix_case_documents_subject_id', 'case_documents', ['subject_id'], unique=False)
    op.create_index('ix_case_documents_parent_id', 'case_documents', ['parent_id'], unique=False)
    document_lock.create(op.get_bind())


def downgrade() -> None:
    document_lock.drop(op.get_bind())
    for column in ('parent_id', 'subject_id', 'inspection_id', 'kind'):
        op.drop_index(f'ix_case_documents_{column}', table_name='case_documents')
    op.drop_table('case_documents')
