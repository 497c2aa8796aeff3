"""Officers' own signing keys: tables officer_keys, officer_signatures

Revision ID: 0017
Revises: 0019

Records signed before this revision carry no officer signatures: the setting
``officer_keys.since`` (the time of the upgrade) tells them apart from a new record that
lacks them (``core.officer_keys``, docs/keys.md).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0019'
branch_labels = None
depends_on = None

SINCE = "officer_keys.since"


def _sync_columns() -> list[sa.Column]:
    return [
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        'officer_keys',
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('cert_no', sa.String(length=64), nullable=False),
        sa.Column('public_key', sa.String(length=64), nullable=False),
        sa.Column('wrapped_key', sa.Text(), nullable=True),
        sa.Column('valid_from', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        *_sync_columns(),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_officer_keys_user_id', 'officer_keys', ['user_id'], unique=False)
    op.create_table(
        'officer_signatures',
        sa.Column('inspection_id', sa.String(length=36), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('cert_no', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=36), nullable=True),
        sa.Column('signature', sa.String(length=128), nullable=True),
        sa.Column('signed_at', sa.DateTime(), nullable=False),
        *_sync_columns(),
        sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('inspection_id', 'position'),
    )
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.Text))
    op.execute(settings.delete().where(settings.c.key == SINCE))
    op.execute(settings.insert().values(key=SINCE, value=datetime.now().replace(microsecond=0).isoformat()))


def downgrade() -> None:
    settings = sa.table('settings', sa.column('key', sa.String))
    op.execute(settings.delete().where(settings.c.key == SINCE))
    op.drop_table('officer_signatures')
    op.drop_index('ix_officer_keys_user_id', table_name='officer_keys')
    op.drop_table('officer_keys')
