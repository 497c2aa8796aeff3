"""Template snapshots stored once by SHA-256; drop a redundant index

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    op.create_table(
        'template_snapshots',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('json', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('sha256'),
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template_sha', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    # every inspection's snapshot, hashed once; the same text is stored once
    links, known = [], set()
    rows = conn.execute(sa.text("SELECT id, template_code, template_version, template_json FROM inspections"))
    for inspection_id, code, version, text in rows:
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if sha not in known:
            known.add(sha)
            conn.execute(sa.text("INSERT INTO template_snapshots (sha256, code, version, json, created_at) "
                                 "VALUES (:sha, :code, :version, :json, CURRENT_TIMESTAMP)"),
                         {"sha": sha, "code": code, "version": version, "json": text})
        links.append({"sha": sha, "id": inspection_id})
    for start in range(0, len(links), BATCH):
        conn.execute(sa.text("UPDATE inspections SET template_sha = :sha WHERE id = :id"), links[start:start + BATCH])
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.alter_column('template_sha', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_foreign_key('fk_inspections_template_sha', 'template_snapshots', ['template_sha'], ['sha256'])
        batch_op.drop_column('template_json')
    with op.batch_alter_table('item_results', schema=None) as batch_op:
        batch_op.drop_index('ix_item_results_inspection_id')


def downgrade() -> None:
    with op.batch_alter_table('item_results', schema=None) as batch_op:
        batch_op.create_index('ix_item_results_inspection_id', ['inspection_id'], unique=False)
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template_json', sa.Text(), nullable=True))
    op.execute("UPDATE inspections SET template_json = "
               "(SELECT json FROM template_snapshots WHERE sha256 = inspections.template_sha)")
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_constraint('fk_inspections_template_sha', type_='foreignkey')
        batch_op.drop_column('template_sha')
    op.drop_table('template_snapshots')
