"""The signed-record lock below the ORM: database triggers (SQLite and PostgreSQL).

``core.guards`` refuses, in the ORM, to change a signed inspection or its rows. These
triggers refuse the same in the database itself, so that a statement that bypasses the
ORM — ``session.execute(update(...))``, ``text()``, a plain ``sqlite3`` connection, a
``psql`` session on the hub — cannot change a signed record either:

* ``inspections``: no UPDATE or DELETE of a row whose stored status is ``signed``;
  no INSERT over one (SQLite's ``INSERT OR REPLACE`` deletes without firing delete
  triggers, so an insert that would collide with a signed row is refused first);
* its rows (``inspection_officers``, ``item_results``, ``photos``, ``signatures``,
  ``rectifications``): no INSERT, UPDATE or DELETE for a signed inspection. A
  rectification (责令改正) of a signed inspection may still be closed by the follow-up:
  only ``status``, ``reinspection_id``, ``closed_at``, ``version`` and ``updated_at``
  may change (``core.guards._LOCKED_RECTIFICATION_FIELDS`` is the ORM's side of it); a
  signature's ``png`` may be set to NULL, nothing else changing (its image moved to the
  attachments folder, revision 0023);
* ``template_snapshots`` (content-addressed): never updated; not deleted while a signed
  inspection uses one.

"Signed" means signed *before this transaction*. The transaction that signs an
inspection (``sign_inspection``), or that imports one arriving signed together with its
rows (a sync package: parents and children in any order), may still write its rows. The
transition to ``signed`` (an INSERT with status ``signed``, or an UPDATE from another
status) records the inspection's id in ``signed_lock_fresh``; the triggers let that
transaction through, and ``core.guards`` deletes the markers just before every commit.
A marker cannot outlive its transaction: its ``cleared`` column references a row that
never exists, checked at commit (a deferred foreign key), so a commit that still holds
one fails; and no marker can be made for an inspection that is signed already.

The one way to rewrite signed rows is ``db.signed_rewrite.rewrite_signed_rows``, for
migrations only: it drops these triggers around its work, puts them back and proves that
every content hash still holds.

The messages start with ``LOCK_MARK``; ``core.guards`` turns them into ``RecordLocked``.
"""
from __future__ import annotations

from db.triggers import create_set, drop_set

LOCK_MARK = "signed-record lock"
CHILD_TABLES = ("inspection_officers", "item_results", "photos", "signatures", "rectifications")
# What a follow-up may not change on the rectification of a signed inspection (all but
# status, reinspection_id, closed_at, version and updated_at).
RECTIFICATION_FIXED = ("id", "inspection_id", "number", "deadline", "requirements", "created_at", "device_id")
FRESH_TABLE = "signed_lock_fresh"
# A marker's ``cleared`` value: a key that is never in the table (the deferred self-reference fails at commit).
OPEN = "open"
# A signed record's signature row may change in one way only: its PNG moved out to the attachments
# folder (``png`` set to NULL, every other column as it was; core.inspections.signature_files
# writes and reads back the file first — a trigger cannot see files).
SIGNATURE_KEPT = ("id", "inspection_id", "role", "signer_name", "sha256", "signed_at", "created_at", "updated_at",
                  "version", "device_id")


def _png_moved_out(new: str = "NEW", old: str = "OLD") -> str:
    """SQL: this UPDATE of a signature only sets its PNG to NULL."""
    same = " AND ".join(f"{new}.{c} IS NOT DISTINCT FROM {old}.{c}" for c in SIGNATURE_KEPT)
    return f"({old}.png IS NOT NULL AND {new}.png IS NULL AND {same})"


def message(table: str) -> str:
    return f"{LOCK_MARK} ({table}): 已签名锁定的检查记录不能修改或删除，如需更正请新建记录"


def trigger_names() -> list[str]:
    names = ["signed_lock_inspections_bi", "signed_lock_inspections_bu", "signed_lock_inspections_bd",
             "signed_lock_fresh_bi", "signed_lock_snapshots_bu", "signed_lock_snapshots_bd"]
    for table in CHILD_TABLES:
        names += [f"signed_lock_{table}_bi", f"signed_lock_{table}_bu", f"signed_lock_{table}_bd"]
    return names


# --- SQLite ----------------------------------------------------------------------------------

def _locked(ref: str) -> str:
    """SQL: the inspection ``ref`` is signed, and not by this transaction."""
    # the marker first: a row of an inspection this transaction signs costs one lookup
    return (f"(NOT EXISTS (SELECT 1 FROM {FRESH_TABLE} f WHERE f.inspection_id = {ref})"
            f" AND EXISTS (SELECT 1 FROM inspections i WHERE i.id = {ref} AND i.status = 'signed'))")


def _raise(table: str, condition: str) -> str:
    return f"SELECT RAISE(ABORT, '{message(table)}') WHERE {condition};"


def _sqlite_statements() -> list[str]:
    fresh = f"INSERT OR IGNORE INTO {FRESH_TABLE} (inspection_id, cleared) SELECT NEW.id, '{OPEN}'"
    out = [
        # markers only for an inspection not signed yet (the stored row, before the change)
        f"""CREATE TRIGGER signed_lock_fresh_bi BEFORE INSERT ON {FRESH_TABLE} BEGIN
            {_raise('inspections', "EXISTS (SELECT 1 FROM inspections WHERE id = NEW.inspection_id AND status = 'signed')")}
        END""",
        f"""CREATE TRIGGER signed_lock_inspections_bi BEFORE INSERT ON inspections BEGIN
            {_raise('inspections', f"EXISTS (SELECT 1 FROM inspections o WHERE (o.id = NEW.id OR o.number = NEW.number) AND {_locked('o.id')})")}
            {fresh} WHERE NEW.status = 'signed';
        END""",
        f"""CREATE TRIGGER signed_lock_inspections_bu BEFORE UPDATE ON inspections BEGIN
            {_raise('inspections', "OLD.status = 'signed' AND " + _locked('OLD.id'))}
            {_raise('inspections', f"EXISTS (SELECT 1 FROM inspections o WHERE (o.id = NEW.id OR o.number = NEW.number) AND o.id <> OLD.id AND {_locked('o.id')})")}
            {fresh} WHERE NEW.status = 'signed' AND OLD.status IS NOT 'signed';
        END""",
        f"""CREATE TRIGGER signed_lock_inspections_bd BEFORE DELETE ON inspections BEGIN
            {_raise('inspections', "OLD.status = 'signed' AND " + _locked('OLD.id'))}
        END""",
        f"""CREATE TRIGGER signed_lock_snapshots_bu BEFORE UPDATE ON template_snapshots BEGIN
            {_raise('template_snapshots', "1")}
        END""",
        f"""CREATE TRIGGER signed_lock_snapshots_bd BEFORE DELETE ON template_snapshots BEGIN
            {_raise('template_snapshots', "EXISTS (SELECT 1 FROM inspections WHERE template_sha = OLD.sha256 AND status = 'signed')")}
        END""",
    ]
    for t in CHILD_TABLES:
        # REPLACE over a signed inspection's row: refused before SQLite deletes it silently
        over = f"EXISTS (SELECT 1 FROM {t} o WHERE o.id = NEW.id AND {_locked('o.inspection_id')})"
        insert_checks = [_locked("NEW.inspection_id"), over]
        if t == "rectifications":
            insert_checks.append(f"EXISTS (SELECT 1 FROM {t} o WHERE o.number = NEW.number AND {_locked('o.inspection_id')})")
            changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in RECTIFICATION_FIXED)
            update_checks = [
                f"({changed}) AND {_locked('OLD.inspection_id')}",
                f"NEW.inspection_id IS NOT OLD.inspection_id AND {_locked('NEW.inspection_id')}",
                f"NEW.id IS NOT OLD.id AND {over}",
                f"NEW.number IS NOT OLD.number AND EXISTS (SELECT 1 FROM {t} o WHERE o.number = NEW.number"
                f" AND {_locked('o.inspection_id')})",
            ]
        elif t == "signatures":
            moved = _png_moved_out().replace("IS NOT DISTINCT FROM", "IS")  # SQLite's spelling
            update_checks = [f"NOT {moved} AND {_locked('OLD.inspection_id')}",
                             f"NOT {moved} AND {_locked('NEW.inspection_id')}", f"NEW.id IS NOT OLD.id AND {over}"]
        else:
            update_checks = [_locked("OLD.inspection_id"), _locked("NEW.inspection_id"), f"NEW.id IS NOT OLD.id AND {over}"]
        out += [
            f"CREATE TRIGGER signed_lock_{t}_bi BEFORE INSERT ON {t} BEGIN "
            + " ".join(_raise(t, c) for c in insert_checks) + " END",
            f"CREATE TRIGGER signed_lock_{t}_bu BEFORE UPDATE ON {t} BEGIN "
            + " ".join(_raise(t, c) for c in update_checks) + " END",
            f"CREATE TRIGGER signed_lock_{t}_bd BEFORE DELETE ON {t} BEGIN {_raise(t, _locked('OLD.inspection_id'))} END",
        ]
    return out


# --- PostgreSQL ------------------------------------------------------------------------------

# a child row of a signed inspection: refused to change, to leave it, or to join it
_PG_CHILD_BODY = """\
  IF TG_OP IN ('UPDATE', 'DELETE') AND signed_lock_locked(OLD.inspection_id) THEN
    PERFORM signed_lock_refuse(TG_TABLE_NAME);
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  IF (TG_OP = 'INSERT' OR NEW.inspection_id IS DISTINCT FROM OLD.inspection_id)
     AND signed_lock_locked(NEW.inspection_id) THEN
    PERFORM signed_lock_refuse(TG_TABLE_NAME);
  END IF;
  RETURN NEW;
"""

_PG_FUNCTIONS = f"""
CREATE FUNCTION signed_lock_locked(p_id varchar) RETURNS boolean LANGUAGE sql VOLATILE AS $$
  SELECT EXISTS (SELECT 1 FROM inspections i WHERE i.id = p_id AND i.status = 'signed'
                 AND NOT EXISTS (SELECT 1 FROM {FRESH_TABLE} f WHERE f.inspection_id = p_id))
$$;
CREATE FUNCTION signed_lock_refuse(p_table text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = '{LOCK_MARK} (' || p_table || '): 已签名锁定的检查记录不能修改或删除，如需更正请新建记录';
END $$;
CREATE FUNCTION signed_lock_fresh_bi() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM inspections WHERE id = NEW.inspection_id AND status = 'signed') THEN
    PERFORM signed_lock_refuse('inspections');
  END IF;
  RETURN NEW;
END $$;
CREATE FUNCTION signed_lock_inspections() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'signed' AND signed_lock_locked(OLD.id) THEN
    PERFORM signed_lock_refuse('inspections');
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  IF NEW.status = 'signed' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'signed') THEN
    INSERT INTO {FRESH_TABLE} (inspection_id, cleared) VALUES (NEW.id, '{OPEN}') ON CONFLICT DO NOTHING;
  END IF;
  RETURN NEW;
END $$;
CREATE FUNCTION signed_lock_child() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_PG_CHILD_BODY}END $$;
CREATE FUNCTION signed_lock_signatures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF {_png_moved_out()} THEN
      RETURN NEW;  -- the PNG moved out to its attachment file: the one change allowed
    END IF;
  END IF;
{_PG_CHILD_BODY}END $$;
CREATE FUNCTION signed_lock_rectifications() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND signed_lock_locked(OLD.inspection_id) THEN
    PERFORM signed_lock_refuse('rectifications');
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' AND ({", ".join(f"NEW.{c}" for c in RECTIFICATION_FIXED)})
       IS DISTINCT FROM ({", ".join(f"OLD.{c}" for c in RECTIFICATION_FIXED)})
     AND signed_lock_locked(OLD.inspection_id) THEN
    PERFORM signed_lock_refuse('rectifications');
  END IF;
  IF (TG_OP = 'INSERT' OR NEW.inspection_id IS DISTINCT FROM OLD.inspection_id)
     AND signed_lock_locked(NEW.inspection_id) THEN
    PERFORM signed_lock_refuse('rectifications');
  END IF;
  RETURN NEW;
END $$;
CREATE FUNCTION signed_lock_snapshots() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' OR EXISTS (SELECT 1 FROM inspections WHERE template_sha = OLD.sha256 AND status = 'signed') THEN
    PERFORM signed_lock_refuse('template_snapshots');
  END IF;
  RETURN OLD;
END $$;
CREATE FUNCTION signed_lock_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM inspections WHERE status = 'signed') THEN
    PERFORM signed_lock_refuse(TG_TABLE_NAME);
  END IF;
  RETURN NULL;
END $$;
"""

_PG_FUNCTION_NAMES = ("signed_lock_locked(varchar)", "signed_lock_refuse(text)", "signed_lock_fresh_bi()",
                      "signed_lock_inspections()", "signed_lock_child()", "signed_lock_signatures()",
                      "signed_lock_rectifications()",
                      "signed_lock_snapshots()", "signed_lock_truncate()")


def _pg_triggers() -> list[tuple[str, str, str]]:
    """(name, table, CREATE TRIGGER statement)."""
    out = [
        ("signed_lock_fresh_bi", FRESH_TABLE, f"BEFORE INSERT ON {FRESH_TABLE} FOR EACH ROW EXECUTE FUNCTION signed_lock_fresh_bi()"),
        ("signed_lock_inspections_bi", "inspections", "BEFORE INSERT ON inspections FOR EACH ROW EXECUTE FUNCTION signed_lock_inspections()"),
        ("signed_lock_inspections_bu", "inspections", "BEFORE UPDATE ON inspections FOR EACH ROW EXECUTE FUNCTION signed_lock_inspections()"),
        ("signed_lock_inspections_bd", "inspections", "BEFORE DELETE ON inspections FOR EACH ROW EXECUTE FUNCTION signed_lock_inspections()"),
        ("signed_lock_snapshots_bu", "template_snapshots", "BEFORE UPDATE ON template_snapshots FOR EACH ROW EXECUTE FUNCTION signed_lock_snapshots()"),
        ("signed_lock_snapshots_bd", "template_snapshots", "BEFORE DELETE ON template_snapshots FOR EACH ROW EXECUTE FUNCTION signed_lock_snapshots()"),
    ]
    for t in CHILD_TABLES:
        function = {"rectifications": "signed_lock_rectifications", "signatures": "signed_lock_signatures"}.get(
            t, "signed_lock_child")
        for suffix, op in (("bi", "INSERT"), ("bu", "UPDATE"), ("bd", "DELETE")):
            out.append((f"signed_lock_{t}_{suffix}", t, f"BEFORE {op} ON {t} FOR EACH ROW EXECUTE FUNCTION {function}()"))
    for t in ("inspections", "template_snapshots", *CHILD_TABLES):
        # TRUNCATE fires no row triggers
        out.append((f"signed_lock_{t}_bt", t, f"BEFORE TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION signed_lock_truncate()"))
    return out


# --- both --------------------------------------------------------------------------------------

def create(connection) -> None:
    """Create the lock's triggers (the tables exist: migration 0008)."""
    create_set(connection, sqlite_statements=_sqlite_statements(), pg_functions=_PG_FUNCTIONS,
               pg_triggers=_pg_triggers(), what="signed-record lock")


def drop(connection) -> None:
    """Drop the lock's triggers (and, on PostgreSQL, their functions)."""
    drop_set(connection, sqlite_names=trigger_names(), pg_triggers=_pg_triggers(), pg_functions=_PG_FUNCTION_NAMES)


def installed(connection) -> set[str]:
    """The names of the lock's triggers present in the database."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, 12) = 'signed_lock_'")
    else:
        rows = connection.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE left(tgname, 12) = 'signed_lock_' AND NOT tgisinternal")
    return {r[0] for r in rows}


def expected_names(dialect: str) -> set[str]:
    if dialect == "sqlite":
        return set(trigger_names())
    return {name for name, _t, _b in _pg_triggers()}
