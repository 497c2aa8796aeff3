"""Moving a station's hub from its SQLite file to PostgreSQL (``main.py hub migrate-db``): a copy of
every table, in dependency order, in one transaction, checked before it commits.

A station that grows into a county's hub (or wants the server's backups and concurrency) keeps
its records, their versions, the sync state with its laptops (devices, peers, bases, batches,
tombstones) and its audit trail exactly: rows are copied as they are — no ORM, so no new audit
entries, no version bumps — and before the commit the copy compares every table's row count
with the source and walks the copied audit chain (the same links, the same last hash). Any
difference rolls the whole copy back. The target must be a new, empty database (its schema is
made here, at the newest revision); the source is only read. docs/deployment.md
"Moving a station's hub to PostgreSQL".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import Integer, delete, func, inspect as sa_inspect, insert, select, text
from sqlalchemy.exc import OperationalError

from core.attachments import attachment_files, read_attachment
from core.audit import walk_chain
from core.errors import InvalidInput, database_message
from core.files import write_through_temp
from core.servers import is_server, without_password
from db.engine import DatabaseProblem, connect_problem, make_engine, open_database
from db.models import Base
from db.signed_lock import FRESH_TABLE

CHUNK = 2000
# written by opening a new database (its defaults, its schema revision): replaced by the source's
SEEDED = ("settings",)
SKIPPED = (FRESH_TABLE,)  # the signed-lock's markers live within one transaction, never between


@dataclass
class CopyReport:
    """What was copied: rows per table, the audit chain's length and last hash."""

    source: str
    target: str
    tables: dict[str, int] = field(default_factory=dict)
    audit_entries: int = 0
    audit_head: str = ""
    attachments: int = 0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def as_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "tables": self.tables, "rows": self.rows,
                "audit_entries": self.audit_entries, "audit_head": self.audit_head, "attachments": self.attachments}


def _tables():
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED]


def _refuse_unless_empty(target: str) -> None:
    """The target holds nothing of anyone's yet (a new database, or one a failed copy left empty)."""
    engine = make_engine(target)
    try:
        try:
            names = set(sa_inspect(engine).get_table_names())
        except OperationalError as exc:  # the server cannot be reached: the one line open_database gives
            raise InvalidInput(database_message(connect_problem(exc, engine))) from exc
        if not names:
            return
        with engine.connect() as conn:
            for table in _tables():
                if table.name in names and table.name not in SEEDED:
                    if conn.execute(select(func.count()).select_from(table)).scalar():
                        raise InvalidInput(f"目标数据库不是空的（表 {table.name} 已有数据），未作任何更改；"
                                           "请新建一个空数据库再迁移：" + without_password(target))
    finally:
        engine.dispose()


def _sequences(conn) -> None:
    """PostgreSQL's serial counters past the copied ids (the next audit entry follows the last)."""
    for table in _tables():
        keys = list(table.primary_key.columns)
        if len(keys) == 1 and isinstance(keys[0].type, Integer) and keys[0].autoincrement in (True, "auto"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{keys[0].name}'), "
                              f"COALESCE((SELECT max({keys[0].name}) FROM {table.name}), 0) + 1, false)"))


def copy_database(source: str, target: str, *, attachments_to: Path | None = None,
                  progress: Callable[[str, int, int], None] | None = None) -> CopyReport:
    """Copy the SQLite database ``source`` (a station's hub) into the new PostgreSQL database ``target``.

    ``attachments_to``: the hub's attachments folder on the server (``hub --data-dir DIR`` reads
    ``DIR/attachments``): every photo and signature file is copied there first, decrypted (a server
    database has no file key; the server's disk and backups are protected instead), each one's
    SHA-256 checked on reading. ``progress(table, done, total)`` after each table. Refused with one Chinese line, nothing
    written, when the source is not a station's SQLite file, the target is not PostgreSQL or not
    empty, or the copy does not check out."""
    from core.context import AppContext

    if is_server(source):
        raise InvalidInput("--from 应为站所的 SQLite 数据库文件")
    if not is_server(target) or not str(target).startswith("postgresql"):
        raise InvalidInput("--to 应为 PostgreSQL 数据库地址，如 postgresql+psycopg://yxjc@localhost/county")
    src = AppContext.open(source, create=False)  # read only from here (an encrypted one: the service key opens it)
    report = CopyReport(source=src.where, target=without_password(target))
    try:
        with src.engine.connect() as conn:
            chain = walk_chain(conn)
        if not chain.ok:
            raise InvalidInput(f"源数据库的审计链不完整，未迁移：{chain.message}")
        _refuse_unless_empty(target)
        if attachments_to is not None:
            report.attachments = _copy_attachments(src, Path(attachments_to))
        try:
            engine, _sessions = open_database(target, create=True)  # the schema, at the newest revision
        except DatabaseProblem as problem:
            raise InvalidInput(database_message(problem)) from problem
        try:
            _copy(src.engine, engine, report, progress)
        finally:
            engine.dispose()
    finally:
        src.close()
    return report


def _copy(source_engine, engine, report: CopyReport, progress) -> None:
    tables = _tables()
    with source_engine.connect() as reader, engine.begin() as conn:
        for n, table in enumerate(tables, 1):
            if table.name in SEEDED:
                conn.execute(delete(table))
            count = 0
            result = reader.execution_options(stream_results=True).execute(select(table))
            while rows := result.mappings().fetchmany(CHUNK):
                conn.execute(insert(table), [dict(r) for r in rows])
                count += len(rows)
            report.tables[table.name] = count
            if progress is not None:
                progress(table.name, n, len(tables))
        conn.execute(text(f"DELETE FROM {FRESH_TABLE}"))  # the signed rows' markers, as every commit clears them
        _sequences(conn)
        for table in tables:  # the check, inside the transaction: any difference rolls it all back
            there = conn.execute(select(func.count()).select_from(table)).scalar()
            if there != report.tables[table.name]:
                raise InvalidInput(f"迁移后表 {table.name} 有 {there} 行，源数据库有 {report.tables[table.name]} 行；"
                                   "已全部撤销，目标数据库未作更改")
        source_chain = walk_chain(reader)
        copied = walk_chain(conn, at_seqs=frozenset())
        if not copied.ok or copied.entries != source_chain.entries:
            raise InvalidInput(f"迁移后的审计链校验未通过（{copied.message}）；已全部撤销，目标数据库未作更改")
        report.audit_entries = copied.entries
        report.audit_head = _head(conn)
        if report.audit_head != _head(reader):
            raise InvalidInput("迁移后的审计链末条与源数据库不同；已全部撤销，目标数据库未作更改")


def _copy_attachments(src, folder: Path) -> int:
    """The source's attachment files, plain, under ``folder`` with the same names; how many."""
    files = attachment_files(src.attachments_dir)
    for path in files:
        data = read_attachment(src, path)  # decrypted in memory, refused if it does not match its hash
        target = folder / path.relative_to(src.attachments_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_through_temp(target, lambda fh, data=data: fh.write(data))
    return len(files)


def _head(conn) -> str:
    return conn.execute(text("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")).scalar() or ""
