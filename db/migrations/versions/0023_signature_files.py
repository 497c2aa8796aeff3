"""Signature images move to the attachments folder: signatures.png becomes nullable

Revision ID: 0023
Revises: 0017

New signatures keep only their SHA-256 in the row; the PNG is a file in the attachments folder
(docs/attachments.md). This revision changes the schema only, no data: ``png`` may be NULL,
a partial index finds the rows that still hold a PNG, and the signed-record lock lets exactly
one change through on a signed record's signature — ``png`` to NULL, nothing else changing.
Moving the existing PNGs out is done by ``core.inspections.signature_files.move_signatures``
(it needs the database key to write encrypted files, which a migration has not got).

SQLite cannot alter a column: batch mode copies the table (same rows, same values), which
drops its triggers; the lock's triggers are dropped before and created again after.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db import signed_lock

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

PENDING_INDEX = "ix_signatures_png_pending"


def upgrade() -> None:
    bind = op.get_bind()
    signed_lock.drop(bind)
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("signatures") as batch:
            batch.alter_column("png", existing_type=sa.LargeBinary(), nullable=True)
    else:
        op.alter_column("signatures", "png", existing_type=sa.LargeBinary(), nullable=True)
    op.create_index(PENDING_INDEX, "signatures", ["id"], sqlite_where=sa.text("png IS NOT NULL"),
                    postgresql_where=sa.text("png IS NOT NULL"))
    signed_lock.create(bind)


def downgrade() -> None:
    # only while every signature still holds its PNG (before move_signatures ran)
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT 1 FROM signatures WHERE png IS NULL LIMIT 1").first() is not None:
        raise RuntimeError("signature images are in the attachments folder: cannot go back below 0023")
    op.drop_index(PENDING_INDEX, table_name="signatures")
    signed_lock.drop(bind)
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("signatures") as batch:
            batch.alter_column("png", existing_type=sa.LargeBinary(), nullable=False)
    else:
        op.alter_column("signatures", "png", existing_type=sa.LargeBinary(), nullable=False)
    signed_lock.create(bind)
