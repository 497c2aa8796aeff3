"""Every foreign-key column leads some index: SQLite checks deferred keys by scanning otherwise."""
from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

from db.models import Base


def test_every_foreign_key_column_is_indexed():
    checked = 0
    missing = []
    for table in Base.metadata.sorted_tables:
        leading = {index.columns.keys()[0] for index in table.indexes}
        leading |= {c.columns.keys()[0] for c in table.constraints
                    if isinstance(c, (PrimaryKeyConstraint, UniqueConstraint)) and c.columns.keys()}
        for fk in table.foreign_keys:
            checked += 1
            if fk.parent.name not in leading:
                missing.append(f"{table.name}.{fk.parent.name}")
    assert checked > 20
    assert missing == []
