"""Engine and session set-up: SQLite in WAL mode with foreign keys on, schema by Alembic.

Opening a database is where a wrong ``--db`` is caught: ``open_database`` refuses a
missing file (unless asked to create one), a folder, a file that is not SQLite, a database
of another program, and one whose schema is newer than this app, each with a
``DatabaseProblem`` naming the reason (``core.context`` turns it into the Chinese message).

Creating the schema and every migration run in ONE SQLite transaction (pysqlite's
implicit transactions are switched off on the migration connection and ``BEGIN
IMMEDIATE`` is emitted explicitly, so DDL is transactional too): a process killed at any
moment leaves the database on the old schema or on the new one, never in between.
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from db import cipher

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_HEADER = cipher.SQLITE_HEADER
FILE_MODE = 0o600  # the database (SQLite gives its -wal and -shm the same mode)

# The newest migration. Start-up compares the database with this constant instead of
# importing Alembic (~0.1 s); tests/integration/test_migrations.py keeps it equal to the
# scripts' head.
HEAD = "0024"


class DatabaseProblem(Exception):
    """The database cannot be opened (or written): ``kind`` says why, ``where`` which one.

    kinds: missing, empty, directory, not_sqlite, foreign, newer, interrupted, corrupt,
    disk_full, io, busy, readonly, cannot_open, key_needed (an encrypted file and no key at
    hand), wrong_key (a key that does not open it).
    """

    def __init__(self, kind: str, where: str, detail: str = ""):
        super().__init__(f"{kind}: {where}" + (f" ({detail})" if detail else ""))
        self.kind, self.where, self.detail = kind, where, detail


def database_url(path_or_url: str | Path) -> str:
    """Accept a filesystem path or an SQLAlchemy URL."""
    text = str(path_or_url)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (None: a server database or an in-memory one)."""
    if not url.startswith("sqlite:///"):
        return None
    name = url.removeprefix("sqlite:///").split("?")[0]
    return Path(name) if name and name != ":memory:" else None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _create(url: str | Any, **kwargs: Any) -> Engine:
    """``create_engine``, through SQLCipher with the remembered key when the file is encrypted."""
    path = sqlite_file(str(url))
    key = cipher.key_for_connection(path) if path is not None else None
    if key is not None:
        def creator():
            return cipher.connect(path, key=key, check_same_thread=False)

        kwargs.update(module=cipher.sqlcipher, creator=creator)
    return create_engine(url, **kwargs)


# A server database (a county's or city's PostgreSQL): a small pool per process — the hub runs
# one import or export at a time beside a few short requests, the console one user — and
# pre-ping, so a connection the server or a firewall dropped overnight is replaced, not an error.
# docs/deployment.md "Connection pooling"; the server's max_connections must cover every process.
SERVER_POOL = {"pool_size": 5, "max_overflow": 10, "pool_pre_ping": True, "pool_recycle": 1800, "pool_timeout": 30}


def connect_problem(exc: OperationalError, engine: Engine) -> DatabaseProblem:
    """A server that refused or cannot be reached: its first line, the URL without its password."""
    reason = str(exc.orig or exc).strip().splitlines()
    return DatabaseProblem("cannot_connect", engine.url.render_as_string(hide_password=True),
                           reason[0][:300] if reason else "")


def make_engine(path_or_url: str | Path) -> Engine:
    url = database_url(path_or_url)
    engine = _create(url, **(SERVER_POOL if url.startswith("postgresql") else {}))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# --- what went wrong ---------------------------------------------------------------------------

def one_snapshot(session: Session) -> None:
    """On PostgreSQL, make the transaction just begun (this must be its first statement) see one
    snapshot, as an SQLite transaction does: REPEATABLE READ. At the default READ COMMITTED each
    statement sees what others committed meanwhile, so work that reads and then writes what it read
    (a sync export recording what it sent) could record something it never saw; now such a write
    is refused (40001, "busy" below) and the work can simply run again. Not for work that appends
    to the audit chain: it reads the chain's head after waiting for its lock, which a snapshot
    taken before would hide (``core.audit.lock_chain``)."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


_PG_BUSY = {"40001", "40P01"}  # serialization failure, deadlock: the transaction may simply run again
# SQLite's primary result codes: BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB
_SQLITE_KINDS = {5: "busy", 6: "busy", 8: "readonly", 10: "io", 11: "corrupt", 13: "disk_full",
                 14: "cannot_open", 26: "not_sqlite"}


def storage_problem(exc: BaseException) -> str | None:
    """The kind of storage failure behind an SQLite error (a full disk...), or None; on PostgreSQL,
    a transaction refused for another one's writes is "busy" too."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, OSError) and orig.errno == 28:  # ENOSPC
        return "disk_full"
    if getattr(orig, "sqlstate", None) in _PG_BUSY:  # PostgreSQL: another transaction wrote the same rows
        return "busy"
    if not isinstance(orig, cipher.ERRORS):
        return None
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return _SQLITE_KINDS.get(code & 0xFF)
    text = str(orig).lower()
    for needle, kind in (("disk is full", "disk_full"), ("malformed", "corrupt"), ("not a database", "not_sqlite"),
                         ("locked", "busy"), ("readonly", "readonly"), ("unable to open", "cannot_open"),
                         ("disk i/o error", "io")):
        if needle in text:
            return kind
    return None


# --- the file -----------------------------------------------------------------------------------

def check_file(path: Path, *, create: bool) -> None:
    """Refuse a folder, a file that is not SQLite, and (unless ``create``) a missing file."""
    where = str(path)
    if path.is_dir():
        raise DatabaseProblem("directory", where)
    if not path.exists():
        if not create:
            raise DatabaseProblem("missing", where)
        return
    try:
        with open(path, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseProblem("cannot_open", where, exc.strerror or "") from exc
    if header and header != SQLITE_HEADER:  # an empty file is an empty database to SQLite
        if not cipher.keys_file(path).is_file():
            raise DatabaseProblem("not_sqlite", where)
        if cipher.key_of(path) is None:  # encrypted (core.dbkeys unwraps the key before opening)
            raise DatabaseProblem("key_needed", where)


def create_private_file(path: Path) -> None:
    """An empty file only its owner can read (0600, whatever the umask), parents made as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


# --- revisions ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    """Every revision of our migration scripts, read from their files (no Alembic import)."""
    found = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        match = re.search(r"^revision\s*(?::\s*str\s*)?=\s*['\"]([^'\"]+)['\"]", script.read_text(encoding="utf-8"),
                          re.MULTILINE)
        if match:
            found.add(match.group(1))
    return frozenset(found)


def _alembic_config(engine: Engine, connection: Connection | None = None, progress: Callable | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.attributes["progress"] = progress  # env.py: called after each migration step
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(engine_or_connection) -> str | None:
    def read(conn) -> str | None:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    if isinstance(engine_or_connection, Connection):
        return read(engine_or_connection)
    with engine_or_connection.connect() as conn:
        return read(conn)


# --- migrating in one transaction ---------------------------------------------------------------

def _ours(table: str) -> bool:
    from db.models import Base

    return (table in Base.metadata.tables or table in ("alembic_version", "sqlite_sequence", "sqlite_stat1")
            or table.startswith(("subjects_fts", "subject_gram", "_alembic_tmp_"))
            or table in ("stats_sets", "stats_dirty", "stats_subject_keys"))  # db/stats_summary.py


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """One connection in one real transaction (DDL included), committed when the block ends.

    pysqlite opens transactions only before INSERT/UPDATE/DELETE and runs CREATE TABLE
    in autocommit; with its transaction handling off and ``BEGIN IMMEDIATE`` emitted here,
    every statement of the upgrade is in the same transaction. Foreign keys are off while
    Alembic rebuilds tables (SQLite's own procedure for ALTER) and checked before commit.
    """
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    migrating = _create(engine.url, poolclass=NullPool)

    @event.listens_for(migrating, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN/COMMIT from the driver
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    @event.listens_for(migrating, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with migrating.begin() as connection:
            yield connection
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
            if broken is not None:
                raise DatabaseProblem("interrupted", str(sqlite_file(str(engine.url)) or engine.url),
                                      f"foreign key check: {tuple(broken)}")
    finally:
        migrating.dispose()


def _leftovers(connection: Connection) -> list[tuple[str, str]]:
    """(type, name) of every schema object: tables, views, triggers (indexes go with tables)."""
    return [(t, n) for t, n in connection.exec_driver_sql(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view', 'trigger') "
        "AND name NOT LIKE 'sqlite_%'")]


def _classify(revision: str | None, tables: list[str], has_rows: Callable[[str], bool], where: str, *,
              create: bool) -> bool:
    """Whether this database may be brought to head; True: leftovers to drop first. Else raises.

    A database without a version row is either new (no tables), left by an older build
    killed while creating the schema (only our tables, every one of them empty: dropped
    and built again, nothing is lost), or not ours.
    """
    if revision is not None:
        if revision not in known_revisions():
            raise DatabaseProblem("newer", where, revision)
        return False
    if any(not _ours(n) for n in tables):
        raise DatabaseProblem("foreign", where)
    for name in tables:
        # FTS shadows: empty when subjects_fts is; the short-search index's positions: fixed rows
        if not name.startswith("subjects_fts_") and name != "subject_gram_positions" and has_rows(name):
            raise DatabaseProblem("foreign", where, f"table {name} has rows but no schema version")
    if not create:
        raise DatabaseProblem("empty", where)
    return bool(tables)


def _prepare(connection: Connection, where: str, *, create: bool) -> None:
    """``_classify`` inside the migration's transaction, and the leftovers dropped there."""
    revision = current_revision(connection)
    if connection.dialect.name != "sqlite":
        if revision is None and inspect(connection).get_table_names():
            raise DatabaseProblem("foreign", where)
        _classify(revision, [], lambda _t: False, where, create=create)
        return
    objects = _leftovers(connection)
    tables = [n for t, n in objects if t == "table"]

    def has_rows(name: str) -> bool:
        return connection.exec_driver_sql(f'SELECT 1 FROM "{name}" LIMIT 1').first() is not None

    if not _classify(revision, tables, has_rows, where, create=create):
        return
    # an interrupted first creation: empty tables of ours, nothing to keep; built again below
    for kind in ("trigger", "view", "table"):
        for name in [n for t, n in objects if t == kind and not n.startswith("subjects_fts_")]:
            connection.exec_driver_sql(f'DROP {kind.upper()} IF EXISTS "{name}"')


def _peek(path: Path, *, create: bool) -> None:
    """Refuse a database that is not ours, newer or (without ``create``) empty before connecting
    the way the app does (which would switch the file to WAL): read-only, plain sqlite3."""
    where = str(path)
    if not path.exists() or path.stat().st_size == 0:
        if not create:
            raise DatabaseProblem("missing" if not path.exists() else "empty", where)
        return
    try:
        conn = cipher.connect(path, readonly=True)
    except cipher.ERRORS:
        return  # the app's own connection will say what is wrong
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None

        def has_rows(name: str) -> bool:
            return conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() is not None

        _classify(revision, tables, has_rows, where, create=create)
    except cipher.ERRORS as exc:
        kind = storage_problem(exc)
        if kind == "not_sqlite" and cipher.key_for_connection(path) is not None:
            raise DatabaseProblem("wrong_key", where) from exc
        if kind in ("corrupt", "not_sqlite"):
            raise DatabaseProblem(kind, where) from exc
    finally:
        conn.close()


def upgrade(engine: Engine, *, create: bool = True, progress: Callable[[str], None] | None = None) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already), atomically.

    ``progress(revision)`` is called after each migration step (inside the one transaction)."""
    where = str(sqlite_file(str(engine.url)) or engine.url.render_as_string(hide_password=True))
    try:
        revision = current_revision(engine)
        if revision == HEAD:
            return
        if revision is not None and revision not in known_revisions():
            raise DatabaseProblem("newer", where, revision)
        from alembic import command

        with migration_connection(engine) as connection:
            _prepare(connection, where, create=create)
            command.upgrade(_alembic_config(engine, connection, progress), "head")
            if current_revision(connection) != HEAD:
                raise DatabaseProblem("interrupted", where, "upgrade did not reach head")
    except DBAPIError as exc:
        kind = storage_problem(exc)
        if kind is None and "already exists" in str(exc.orig):
            kind = "interrupted"  # an older build was killed half-way through a migration
        if kind is None:
            raise
        raise DatabaseProblem(kind, where, str(exc.orig)) from exc


def open_database(path_or_url: str | Path, *, create: bool = True,
                  progress: Callable[[str], None] | None = None) -> tuple[Engine, sessionmaker[Session]]:
    """Open a database at the newest schema; ``create``: make the file and schema if missing.

    Without ``create`` a missing or empty database is refused (``DatabaseProblem``
    "missing" / "empty") and nothing is created. A new file is created 0600.
    """
    url = database_url(path_or_url)
    path = sqlite_file(url)
    if path is not None:
        check_file(path, create=create)
        _peek(path, create=create)
    made = path is not None and not path.exists()
    if made:
        try:
            create_private_file(path)
        except OSError as exc:
            raise DatabaseProblem("disk_full" if exc.errno == 28 else "cannot_open", str(path),
                                  exc.strerror or "") from exc
    engine = make_engine(url)
    try:
        upgrade(engine, create=create, progress=progress)
    except OperationalError as exc:
        engine.dispose()
        if path is not None:
            raise
        raise connect_problem(exc, engine) from exc
    except BaseException:
        engine.dispose()
        if made:  # a file this call created and could not set up (a full disk...): leave nothing
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise
    return engine, sessionmaker(engine, expire_on_commit=False)
