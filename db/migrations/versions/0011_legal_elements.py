"""Legal elements of the printed forms: one JSON column on inspections

Revision ID: 0011
Revises: 0008

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
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('inspections', sa.Column('legal_json', sa.Text(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_column('legal_json')
