"""Hub hardening: accepted hub requests (replay guard) and revoked devices

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'hub_requests',
        sa.Column('signature_sha256', sa.String(length=64), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('nonce', sa.String(length=32), nullable=False),
        sa.Column('request_time', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('signature_sha256'),
        sa.UniqueConstraint('device_id', 'nonce'),
    )
    op.create_index('ix_hub_requests_request_time', 'hub_requests', ['request_time'], unique=False)
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
    op.drop_index('ix_hub_requests_request_time', table_name='hub_requests')
    op.drop_table('hub_requests')
