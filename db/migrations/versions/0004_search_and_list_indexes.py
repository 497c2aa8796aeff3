"""Full-text search over subjects (SQLite FTS5, trigram) and indexes for the inspection list

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The trigram tokenizer finds any substring of 3+ characters — Chinese included — in
# name, address and credit code. Triggers keep the index in step with the table.
FTS = [
    "CREATE VIRTUAL TABLE subjects_fts USING fts5("
    "name, address, credit_code, content='subjects', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER subjects_fts_ai AFTER INSERT ON subjects BEGIN "
    "INSERT INTO subjects_fts(rowid, name, address, credit_code) "
    "VALUES (new.rowid, new.name, new.address, coalesce(new.credit_code, '')); END",
    "CREATE TRIGGER subjects_fts_ad AFTER DELETE ON subjects BEGIN "
    "INSERT INTO subjects_fts(subjects_fts, rowid, name, address, credit_code) "
    "VALUES ('delete', old.rowid, old.name, old.address, coalesce(old.credit_code, '')); END",
    "CREATE TRIGGER subjects_fts_au AFTER UPDATE OF name, address, credit_code ON subjects BEGIN "
    "INSERT INTO subjects_fts(subjects_fts, rowid, name, address, credit_code) "
    "VALUES ('delete', old.rowid, old.name, old.address, coalesce(old.credit_code, '')); "
    "INSERT INTO subjects_fts(rowid, name, address, credit_code) "
    "VALUES (new.rowid, new.name, new.address, coalesce(new.credit_code, '')); END",
    "INSERT INTO subjects_fts(subjects_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index('ix_inspections_started', ['started_at', 'number'], unique=False)
        batch_op.create_index('ix_inspections_subject_started', ['subject_id', 'started_at'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        for statement in FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("subjects_fts_au", "subjects_fts_ad", "subjects_fts_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS subjects_fts")
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index('ix_inspections_subject_started')
        batch_op.drop_index('ix_inspections_started')
