"""Indexes for the statistics at city scale (core.stats, docs/statistics.md "Speed")

Revision ID: 0009
Revises: 0008

``ix_inspections_signed`` covers what the statistics read of the period's signed
inspections (status, signing time, id, subject, template, kind, purpose), so a report reads
the index instead of the wide rows; ``ix_item_results_failed`` is a partial index on the
failed item results (a few per cent of them), by inspection.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

FAILED = sa.text("result = 'fail'")


def upgrade() -> None:
    op.create_index('ix_inspections_signed', 'inspections',
                    ['status', 'signed_at', 'id', 'subject_id', 'template_sha', 'template_code', 'kind', 'purpose'])
    op.create_index('ix_item_results_failed', 'item_results', ['inspection_id', 'item_code'],
                    sqlite_where=FAILED, postgresql_where=FAILED)


def downgrade() -> None:
    op.drop_index('ix_item_results_failed', table_name='item_results')
    op.drop_index('ix_inspections_signed', table_name='inspections')
