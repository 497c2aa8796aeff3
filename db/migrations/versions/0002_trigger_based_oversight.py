"""trigger-based oversight: grades, events, tasks, plans

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspection_plans',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('inputs_sha256', sa.String(length=64), nullable=False),
    sa.Column('entries_json', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('year', 'seed', 'inputs_sha256')
    )
    op.create_table('inspectors',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('cert_no', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cert_no')
    )
    op.create_table('trigger_events',
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('source_ref', sa.String(length=100), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_ref')
    )
    with op.batch_alter_table('trigger_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trigger_events_subject_id'), ['subject_id'], unique=False)

    op.create_table('grade_changes',
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('from_grade', sa.Integer(), nullable=True),
    sa.Column('to_grade', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['trigger_events.id'], ),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('grade_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_changes_subject_id'), ['subject_id'], unique=False)

    op.create_table('inspection_tasks',
    sa.Column('subject_id', sa.String(length=36), nullable=False),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('template_code', sa.String(length=64), nullable=False),
    sa.Column('officers_json', sa.Text(), nullable=False),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.Column('inspection_id', sa.String(length=36), nullable=True),
    sa.Column('rectification_id', sa.String(length=36), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], ),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectifications.id'], ),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('inspection_id')
    )
    with op.batch_alter_table('inspection_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_tasks_due'), ['due'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_tasks_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_tasks_subject_id'), ['subject_id'], unique=False)

    op.create_table('task_reasons',
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=True),
    sa.Column('plan_id', sa.String(length=36), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['trigger_events.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plans.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['inspection_tasks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('task_reasons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_reasons_task_id'), ['task_id'], unique=False)

    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), nullable=False, server_default='regular'))

    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reinspection_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_rectifications_reinspection_id', 'inspections', ['reinspection_id'], ['id'])

    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grade', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_column('grade')

    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_constraint('fk_rectifications_reinspection_id', type_='foreignkey')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('reinspection_id')

    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_column('purpose')

    with op.batch_alter_table('task_reasons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_reasons_task_id'))

    op.drop_table('task_reasons')
    with op.batch_alter_table('inspection_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_tasks_subject_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_tasks_status'))
        batch_op.drop_index(batch_op.f('ix_inspection_tasks_due'))

    op.drop_table('inspection_tasks')
    with op.batch_alter_table('grade_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grade_changes_subject_id'))

    op.drop_table('grade_changes')
    with op.batch_alter_table('trigger_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trigger_events_subject_id'))

    op.drop_table('trigger_events')
    op.drop_table('inspectors')
    op.drop_table('inspection_plans')
