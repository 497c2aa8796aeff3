"""Tombstones (deletions of synced records travel) and the short-search index

Revision ID: 0019
Revises: 0020

Two independent parts in one revision (the revision id this branch was given):

**Tombstones** (docs/sync-format.md "Tombstones"):
``sync_tombstones``: one row per deleted record that had been exchanged with a peer — its
table, id, the version it had when deleted, who deleted it where and when, the peer it came
from (NULL: deleted here) and the audit position of the deletion (the export's watermark).
``sync_conflicts.deleted``: which side of a conflict deleted the record ("local", "remote",
or "" for an edit/edit conflict).

**Short searches** (SQLite only, like the FTS5 table of 0004; docs/performance.md): the
trigram index cannot answer one or two characters (a surname, 太原, 康), and the LIKE scan
that did walked every subject for a rare pair. ``subject_grams`` holds, per subject, every
distinct character and every distinct pair of adjacent characters of its name, address and
credit code, ASCII-lowercased as LIKE compares them (``WITHOUT ROWID``, keyed by gram then
subject rowid): a one- or two-character query is one key, its subjects in rowid order, their
number a count of that key. Triggers keep it in step with ``subjects``.
``subject_gram_positions`` (1..300: the longest of those columns) gives the triggers their
character positions, since SQLite allows no recursive query inside a trigger.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0020'
branch_labels = None
depends_on = None


POSITIONS = 300  # the longest indexed column: address String(300)


def _grams(row: str) -> str:
    """SELECT of the (gram, rowid) of ``row`` (``new`` or ``old``): its characters and pairs.

    Duplicates are left to ``INSERT OR IGNORE`` (cheaper than DISTINCT's sorter per row)."""
    return (f"SELECT lower(substr(t.v, p.n, w.k)), {row}.rowid FROM "
            f"(SELECT {row}.name AS v UNION ALL SELECT {row}.address UNION ALL SELECT {row}.credit_code) AS t, "
            "subject_gram_positions AS p, (SELECT 1 AS k UNION ALL SELECT 2) AS w "
            "WHERE t.v IS NOT NULL AND p.n <= length(t.v) + 1 - w.k")


GRAMS = [
    "CREATE TABLE subject_gram_positions (n INTEGER PRIMARY KEY)",
    "INSERT INTO subject_gram_positions (n) WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
    f"WHERE n < {POSITIONS}) SELECT n FROM c",
    "CREATE TABLE subject_grams (gram TEXT NOT NULL, subject_rowid INTEGER NOT NULL, "
    "PRIMARY KEY (gram, subject_rowid)) WITHOUT ROWID",
    f"CREATE TRIGGER subject_grams_ai AFTER INSERT ON subjects BEGIN "
    f"INSERT OR IGNORE INTO subject_grams (gram, subject_rowid) {_grams('new')}; END",
    f"CREATE TRIGGER subject_grams_ad AFTER DELETE ON subjects BEGIN "
    f"DELETE FROM subject_grams WHERE (gram, subject_rowid) IN ({_grams('old')}); END",
    f"CREATE TRIGGER subject_grams_au AFTER UPDATE OF name, address, credit_code ON subjects BEGIN "
    f"DELETE FROM subject_grams WHERE (gram, subject_rowid) IN ({_grams('old')}); "
    f"INSERT OR IGNORE INTO subject_grams (gram, subject_rowid) {_grams('new')}; END",
    # the subjects already there, in key order
    "INSERT OR IGNORE INTO subject_grams (gram, subject_rowid) "
    "SELECT DISTINCT lower(substr(t.v, p.n, w.k)), t.r FROM "
    "(SELECT rowid AS r, name AS v FROM subjects UNION ALL SELECT rowid, address FROM subjects "
    "UNION ALL SELECT rowid, credit_code FROM subjects) AS t, "
    "subject_gram_positions AS p, (SELECT 1 AS k UNION ALL SELECT 2) AS w "
    "WHERE t.v IS NOT NULL AND p.n <= length(t.v) + 1 - w.k ORDER BY 1, 2",
]


def upgrade() -> None:
    op.create_table(
        "sync_tombstones",
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("deleted_at", sa.DateTime, nullable=False),
        sa.Column("deleted_by", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("origin", sa.String(36)),
        sa.Column("audit_seq", sa.Integer, nullable=False),
    )
    op.create_index("ix_sync_tombstones_audit_seq", "sync_tombstones", ["audit_seq"])
    with op.batch_alter_table("sync_conflicts") as batch:
        batch.add_column(sa.Column("deleted", sa.String(8), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "sqlite":
        for statement in GRAMS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("subject_grams_au", "subject_grams_ad", "subject_grams_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS subject_grams")
        op.execute("DROP TABLE IF EXISTS subject_gram_positions")
    with op.batch_alter_table("sync_conflicts") as batch:
        batch.drop_column("deleted")
    op.drop_index("ix_sync_tombstones_audit_seq", table_name="sync_tombstones")
    op.drop_table("sync_tombstones")
