"""The lock of one-row documents below the ORM: database triggers (SQLite and PostgreSQL).

询问笔录 (``questionings``), 送达回证 (``service_receipts``) and the case paperwork
(``case_documents``) each hold a whole document in one row. Once its stored status is
``signed`` the row is the document as signed (or approved, or issued), and these triggers
refuse — whatever writes, the ORM, ``text()``, a plain ``sqlite3`` connection, ``psql`` on
the hub — to

* UPDATE or DELETE it;
* INSERT a row with its id or its number (SQLite's ``INSERT OR REPLACE`` deletes
  without firing delete triggers, so the collision is refused first).

A row still in draft may become ``signed`` (that UPDATE sees ``OLD.status`` = draft).
``core.guards`` holds the same rule in the ORM; the messages start with
``db.signed_lock.LOCK_MARK``, which ``core.guards`` turns into ``RecordLocked``.
Created by migration 0018.
"""
from __future__ import annotations

from db.signed_lock import LOCK_MARK
from db.triggers import create_set, drop_set

TABLES = ("questionings", "service_receipts", "case_documents")
_PREFIX = "document_lock_"


def message(table: str) -> str:
    return f"{LOCK_MARK} ({table}): 已签名锁定的文书不能修改或删除"


def trigger_names() -> list[str]:
    return [f"{_PREFIX}{t}_{op}" for t in TABLES for op in ("bi", "bu", "bd")]


def _sqlite_statements() -> list[str]:
    out = []
    for t in TABLES:
        refuse = f"SELECT RAISE(ABORT, '{message(t)}')"
        out += [
            f"CREATE TRIGGER {_PREFIX}{t}_bi BEFORE INSERT ON {t} BEGIN {refuse} WHERE EXISTS "
            f"(SELECT 1 FROM {t} o WHERE (o.id = NEW.id OR o.number = NEW.number) AND o.status = 'signed'); END",
            f"CREATE TRIGGER {_PREFIX}{t}_bu BEFORE UPDATE ON {t} BEGIN {refuse} WHERE OLD.status = 'signed'; "
            f"{refuse} WHERE NEW.id IS NOT OLD.id AND EXISTS (SELECT 1 FROM {t} o WHERE o.id = NEW.id "
            f"AND o.status = 'signed'); END",
            f"CREATE TRIGGER {_PREFIX}{t}_bd BEFORE DELETE ON {t} BEGIN {refuse} WHERE OLD.status = 'signed'; END",
        ]
    return out


_PG_FUNCTION = f"""
CREATE FUNCTION document_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'signed' THEN
    RAISE EXCEPTION USING MESSAGE = '{LOCK_MARK} (' || TG_TABLE_NAME || '): 已签名锁定的文书不能修改或删除';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$;
CREATE FUNCTION document_lock_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE found boolean;
BEGIN
  EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || quote_ident(TG_TABLE_NAME) || ' WHERE status = ''signed'')' INTO found;
  IF found THEN
    RAISE EXCEPTION USING MESSAGE = '{LOCK_MARK} (' || TG_TABLE_NAME || '): 已签名锁定的文书不能修改或删除';
  END IF;
  RETURN NULL;
END $$;
"""


def _pg_triggers() -> list[tuple[str, str, str]]:
    out = []
    for t in TABLES:
        for suffix, op in (("bu", "UPDATE"), ("bd", "DELETE")):
            out.append((f"{_PREFIX}{t}_{suffix}", t, f"BEFORE {op} ON {t} FOR EACH ROW EXECUTE FUNCTION document_lock()"))
        # PostgreSQL has no INSERT OR REPLACE: the unique keys refuse a colliding insert
        out.append((f"{_PREFIX}{t}_bt", t, f"BEFORE TRUNCATE ON {t} FOR EACH STATEMENT "
                                           "EXECUTE FUNCTION document_lock_truncate()"))
    return out


def create(connection) -> None:
    create_set(connection, sqlite_statements=_sqlite_statements(), pg_functions=_PG_FUNCTION,
               pg_triggers=_pg_triggers(), what="document lock")


def drop(connection) -> None:
    drop_set(connection, sqlite_names=trigger_names(), pg_triggers=_pg_triggers(),
             pg_functions=("document_lock()", "document_lock_truncate()"))
