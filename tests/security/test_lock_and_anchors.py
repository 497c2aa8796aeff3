"""Issue 10 item 4: the signed-record lock below the ORM, and audit anchors outside the table.

Attacks, as the issue ran them: raw SQL (``session.execute(update(...))``, ``text()``, a
plain ``sqlite3`` connection, ``psycopg`` on the hub) changing a signed inspection or one
of its rows; deleting the audit log's tail, emptying it, recomputing it after an edit;
editing or truncating the anchor file. Each asserts the exit code (or exception), the
Chinese message, and that every table and the attachments folder are unchanged.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, text, update

import main
from tests.integration.helpers import register_officers
from core import anchors, sync
from core import inspections as svc
from core.audit import entry_hash
from core.backup import make_backup, restore_backup
from core.context import AppContext
from core.errors import InvalidInput, RecordLocked
from core.subjects import SubjectData, add_subject
from core.signing import sign
from core.sync.writer import write_zip_atomically
from db import signed_lock
from db.models import Inspection, InspectionOfficer, ItemResult, Photo, Rectification, Signature
from db.signed_rewrite import SignedRewriteError, rewrite_signed_rows, signed_content_hashes
from tests.integration.helpers import answer_all, sign_all, signed_inspection
from tests.integration.test_sync import dump, enrolled_laptop, photo_file, pull_master_data
from tests.security.digest import database_digest, folder_digest

ROOT = Path(__file__).resolve().parents[2]
LOCKED_TEXT = "已签名锁定的检查记录不能修改或删除"
OFFICERS = [svc.OfficerData("王建国", "41170021001"), svc.OfficerData("李秀英", "41170021002")]
SUBJECT = SubjectData(name="驿城区测试化妆品店", category="cosmetics_operator", credit_code="91350100M000100Y43",
                      legal_rep="张三", address="驻马店市驿城区测试路1号", phone="13800000000", grid="测试社区")

# per table: (model, a column to change, a new value)
CHANGES = {
    "inspections": (Inspection, "findings", "签名后改过"),
    "inspection_officers": (InspectionOfficer, "name", "冒名"),
    "item_results": (ItemResult, "note", "改过"),
    "photos": (Photo, "original_name", "换过.jpg"),
    "signatures": (Signature, "signer_name", "冒签"),
    "rectifications": (Rectification, "requirements", "改过的要求"),
}


def owner_column(table: str) -> str:
    return "id" if table == "inspections" else "inspection_id"


def signed_with_photo(ctx: AppContext, subject_id: str, folder: Path) -> str:
    """A signed inspection with every kind of row: officers, answers, a photo, signatures, an order."""
    inspection_id = svc.start_inspection(ctx, subject_id, "cosmetics-531", OFFICERS)
    answer_all(ctx, inspection_id, {"B2": "1批次无备案信息"})
    svc.add_photo(ctx, inspection_id, "B2", photo_file(folder))
    svc.update_details(ctx, inspection_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(ctx, inspection_id)
    sign_all(ctx, inspection_id)
    return inspection_id


# --- a station with a signed inspection and a draft, copied for each test -------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("signed-station")
    ctx = AppContext.open(root / "station.db")
    subject = add_subject(ctx, SUBJECT)
    signed_id = signed_with_photo(ctx, subject.id, root)
    draft_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", OFFICERS)
    ctx.close()
    (root / "现场照片.jpg").unlink()
    return root, signed_id, draft_id


class Station:
    def __init__(self, folder: Path, signed_id: str, draft_id: str):
        self.folder, self.signed_id, self.draft_id = folder, signed_id, draft_id
        self.db = folder / "station.db"
        self.anchor_file = folder / "station.db.anchors"
        self.attachments = folder / "station-attachments"
        self.ctx = AppContext.open(self.db)

    def digests(self) -> tuple[str, str]:
        return database_digest(self.db), folder_digest(self.attachments)


@pytest.fixture
def station(template, tmp_path):
    root, signed_id, draft_id = template
    folder = tmp_path / "st"
    shutil.copytree(root, folder)
    st = Station(folder, signed_id, draft_id)
    assert len(svc.load_inspection(st.ctx, signed_id).photos) == 1
    yield st
    st.ctx.close()


def plain(db: Path) -> sqlite3.Connection:
    return rawdb.connect(db, isolation_level=None)


# --- the lock below the ORM (SQLite) ---------------------------------------------------------------

@pytest.mark.parametrize("table", list(CHANGES))
@pytest.mark.parametrize("how", ["orm_update", "orm_delete", "text_update", "text_delete"])
def test_raw_sql_through_the_session_is_refused(station, table, how):
    model, column, value = CHANGES[table]
    before = station.digests()
    key = getattr(model, owner_column(table))
    with pytest.raises(RecordLocked) as refused:
        with station.ctx.transaction() as s:
            if how == "orm_update":
                s.execute(update(model).where(key == station.signed_id).values({column: value}))
            elif how == "orm_delete":
                s.execute(delete(model).where(key == station.signed_id))
            elif how == "text_update":
                s.execute(text(f"UPDATE {table} SET {column} = :v WHERE {owner_column(table)} = :i"),
                          {"v": value, "i": station.signed_id})
            else:
                s.execute(text(f"DELETE FROM {table} WHERE {owner_column(table)} = :i"), {"i": station.signed_id})
    assert LOCKED_TEXT in refused.value.message and "如需更正请新建记录" in refused.value.message
    assert station.digests() == before
    record = svc.load_inspection(station.ctx, station.signed_id)
    assert record.current_hash() == record.content_hash


@pytest.mark.parametrize("table", list(CHANGES))
@pytest.mark.parametrize("op", ["update", "delete", "insert", "replace"])
def test_a_plain_sqlite3_connection_is_refused(station, table, op):
    _model, column, value = CHANGES[table]
    before = station.digests()
    con = plain(station.db)
    con.row_factory = rawdb.row_type(con)
    row = dict(con.execute(f"SELECT * FROM {table} WHERE {owner_column(table)} = ? LIMIT 1",
                           (station.signed_id,)).fetchone())
    if op in ("insert", "replace") and table != "inspections":
        # a new row for the signed inspection (a fresh id and natural key)
        row.update(id=str(uuid.uuid4()), **{"item_code": "Z9"} if table in ("item_results",) else {},
                   **{"position": 9} if table == "inspection_officers" else {},
                   **{"role": "witness"} if table == "signatures" else {},
                   **{"number": "另一号"} if table == "rectifications" else {})
    if op in ("insert", "replace"):
        row[column] = value
    names = ", ".join(row)
    sql = {
        "update": (f"UPDATE {table} SET {column} = ? WHERE {owner_column(table)} = ?", (value, station.signed_id)),
        "delete": (f"DELETE FROM {table} WHERE {owner_column(table)} = ?", (station.signed_id,)),
        "insert": (f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())),
        "replace": (f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values())),
    }[op]
    with pytest.raises(rawdb.IntegrityError) as refused:
        con.execute(*sql)
    con.close()
    assert signed_lock.LOCK_MARK in str(refused.value) and LOCKED_TEXT in str(refused.value)
    assert station.digests() == before


def test_the_follow_up_may_close_a_signed_inspections_order_but_not_rewrite_it(station):
    con = plain(station.db)
    con.execute("UPDATE rectifications SET status = 'closed', closed_at = '2026-02-01 10:00:00.000000',"
                " version = version + 1 WHERE inspection_id = ?", (station.signed_id,))
    assert con.execute("SELECT status FROM rectifications WHERE inspection_id = ?",
                       (station.signed_id,)).fetchone() == ("closed",)
    before = station.digests()
    for column, value in (("number", "改号"), ("deadline", "2030-01-01"), ("inspection_id", station.draft_id),
                          ("device_id", "another")):
        with pytest.raises(rawdb.IntegrityError, match=signed_lock.LOCK_MARK):
            con.execute(f"UPDATE rectifications SET {column} = ? WHERE inspection_id = ?", (value, station.signed_id))
    con.close()
    assert station.digests() == before


def test_a_draft_stays_editable_and_still_signs_then_locks(station):
    con = plain(station.db)
    con.execute("UPDATE inspections SET place = '仓库' WHERE id = ?", (station.draft_id,))
    con.close()
    answer_all(station.ctx, station.draft_id, {})
    svc.update_details(station.ctx, station.draft_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(station.ctx, station.draft_id)
    digest = sign_all(station.ctx, station.draft_id)
    record = svc.load_inspection(station.ctx, station.draft_id)
    assert record.status == "signed" and record.place == "仓库" and record.current_hash() == digest
    with station.ctx.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM signed_lock_fresh").scalar() == 0
    before = station.digests()
    with pytest.raises(RecordLocked, match=LOCKED_TEXT):
        with station.ctx.transaction() as s:
            s.execute(text("UPDATE inspections SET place = '改' WHERE id = :i"), {"i": station.draft_id})
    assert station.digests() == before


def test_no_marker_for_a_signed_inspection_and_none_outlives_its_transaction(station):
    before = station.digests()
    con = plain(station.db)
    with pytest.raises(rawdb.IntegrityError, match=signed_lock.LOCK_MARK):
        con.execute("INSERT INTO signed_lock_fresh VALUES (?, 'open')", (station.signed_id,))
    # signing by hand on a connection with foreign keys on, leaving the marker: the commit fails
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("BEGIN")
    con.execute("UPDATE inspections SET status = 'signed' WHERE id = ?", (station.draft_id,))
    assert con.execute("SELECT count(*) FROM signed_lock_fresh").fetchone() == (1,)
    with pytest.raises(rawdb.IntegrityError, match="FOREIGN KEY"):
        con.execute("COMMIT")
    con.execute("ROLLBACK")
    con.close()
    assert station.digests() == before


def test_the_signed_inspection_is_refused_through_the_cli_paths_too(station, capsys):
    """A service that met the trigger: RecordLocked → exit 2 with the Chinese line (the CLI contract)."""
    from cli.app import guarded

    def edit(_args):
        with station.ctx.transaction() as s:
            s.execute(text("UPDATE photos SET item_code = 'A1' WHERE inspection_id = :i"), {"i": station.signed_id})
        return 0

    before = station.digests()
    assert guarded(edit, None) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and LOCKED_TEXT in err and "照片" in err
    assert station.digests() == before


# --- the migration-only rewrite path -----------------------------------------------------------

def test_the_rewrite_path_recomputes_the_same_hashes_as_the_app(station):
    other = signed_inspection(station.ctx, svc.load_inspection(station.ctx, station.signed_id).subject_id, OFFICERS,
                              refused=True)
    with station.ctx.engine.connect() as conn:
        hashes = signed_content_hashes(conn)
    assert len(hashes) == 2
    for inspection_id in (station.signed_id, other):
        record = svc.load_inspection(station.ctx, inspection_id)
        assert hashes[inspection_id] == (record.content_hash, record.current_hash())


def test_a_migration_may_rewrite_signed_rows_keeping_every_hash(station):
    def move_images(conn):  # as a migration rewriting signature rows would: same values, rows rewritten
        rows = conn.exec_driver_sql("SELECT id, sha256 FROM signatures").all()
        assert len(rows) == 4
        for sid, sha in rows:
            conn.exec_driver_sql("UPDATE signatures SET sha256 = ?, updated_at = updated_at WHERE id = ?", (sha, sid))

    with station.ctx.engine.begin() as conn:
        assert rewrite_signed_rows(conn, move_images) == 1
        assert signed_lock.installed(conn) == signed_lock.expected_names("sqlite")
    before = station.digests()
    con = plain(station.db)
    with pytest.raises(rawdb.IntegrityError, match=signed_lock.LOCK_MARK):
        con.execute("UPDATE signatures SET signer_name = 'x' WHERE inspection_id = ?", (station.signed_id,))
    con.close()
    assert station.digests() == before


@pytest.mark.parametrize("change", [
    "UPDATE inspections SET findings = '改' WHERE status = 'signed'",
    "UPDATE signatures SET png = x'89504e47'",
    "UPDATE inspections SET content_hash = '0000000000000000000000000000000000000000000000000000000000000000'",
    "DELETE FROM photos",
])
def test_a_rewrite_that_changes_what_a_record_says_rolls_back(station, change):
    before = station.digests()
    with pytest.raises(SignedRewriteError):
        with station.ctx.engine.begin() as conn:
            rewrite_signed_rows(conn, lambda c: c.exec_driver_sql(change))
    assert station.digests() == before
    with station.ctx.engine.connect() as conn:
        assert signed_lock.installed(conn) == signed_lock.expected_names("sqlite")


# --- sync: a signed inspection arrives with its rows (SQLite and PostgreSQL) ---------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def hub_station(request, tmp_path):
    if request.param == "postgresql":
        db = request.getfixturevalue("pg_server").create_database()
    else:
        db = str(tmp_path / "station.db")
    ctx = AppContext.open(db, attachments_dir=tmp_path / "station-attachments")
    subject = add_subject(ctx, SUBJECT)
    register_officers(ctx, [(o.name, o.cert_no) for o in OFFICERS])  # signed records need known officers
    laptop, _data = enrolled_laptop(ctx, tmp_path, "笔记本1")
    pull_master_data(ctx, laptop, tmp_path / "down")
    yield ctx, laptop, subject
    laptop.close()
    ctx.close()


def _send(laptop: AppContext, station: AppContext, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for path in sync.export_packages(laptop, folder):
        summary = sync.import_package(station, path)
        assert summary.conflicts == 0, summary


def _refuses_raw_sql(station: AppContext, inspection_id: str, tables=tuple(CHANGES)) -> None:
    before = dump(station)
    for table in tables:
        _model, column, value = CHANGES[table]
        with station.engine.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE {owner_column(table)} = :i"),
                                {"i": inspection_id}).scalar() >= 1, table
        for sql in (f"UPDATE {table} SET {column} = :v WHERE {owner_column(table)} = :i",
                    f"DELETE FROM {table} WHERE {owner_column(table)} = :i"):
            with pytest.raises(RecordLocked, match=LOCKED_TEXT):
                with station.transaction() as s:
                    s.execute(text(sql), {"v": value, "i": inspection_id})
    assert dump(station) == before


def test_a_signed_inspection_syncs_with_its_rows(hub_station, tmp_path):
    station, laptop, subject = hub_station
    inspection_id = signed_with_photo(laptop, subject.id, tmp_path)
    _send(laptop, station, tmp_path / "up")
    record = svc.load_inspection(station, inspection_id)
    assert record.status == "signed" and len(record.photos) == 1 and len(record.signatures) == 4
    assert record.rectification is not None and record.current_hash() == record.content_hash
    with station.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM signed_lock_fresh").scalar() == 0
        assert signed_lock.installed(conn) == signed_lock.expected_names(station.engine.dialect.name)
    _refuses_raw_sql(station, inspection_id)


def test_a_draft_sent_earlier_then_signed_with_new_rows(hub_station, tmp_path):
    """The second package signs a record the station holds as a draft and brings its signatures."""
    station, laptop, subject = hub_station
    inspection_id = svc.start_inspection(laptop, subject.id, "cosmetics-531", OFFICERS)
    answer_all(laptop, inspection_id, {"B2": "1批次无备案信息"})
    _send(laptop, station, tmp_path / "up1")
    assert svc.load_inspection(station, inspection_id).status == "draft"
    svc.set_note(laptop, inspection_id, "B2", "2批次无备案信息")  # an answer changed in the same package
    svc.update_details(laptop, inspection_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(laptop, inspection_id)
    sign_all(laptop, inspection_id)
    _send(laptop, station, tmp_path / "up2")
    record = svc.load_inspection(station, inspection_id)
    assert record.status == "signed" and len(record.signatures) == 4 and record.answer("B2").note == "2批次无备案信息"
    assert record.current_hash() == record.content_hash
    _refuses_raw_sql(station, inspection_id, [t for t in CHANGES if t != "photos"])


def test_postgresql_refuses_a_plain_connection_and_truncate(pg_server, tmp_path):
    import psycopg

    url = pg_server.create_database()
    ctx = AppContext.open(url, attachments_dir=tmp_path / "att")
    subject = add_subject(ctx, SUBJECT)
    inspection_id = signed_with_photo(ctx, subject.id, tmp_path)
    before = dump(ctx)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    statements = [f"UPDATE {t} SET {c} = %s WHERE {owner_column(t)} = %s" for t, (_m, c, _v) in CHANGES.items()]
    statements += [f"DELETE FROM {t} WHERE {owner_column(t)} = %s" for t in CHANGES]
    statements += [f"TRUNCATE {t} CASCADE" for t in CHANGES]
    statements += ["INSERT INTO signed_lock_fresh VALUES (%s, 'open')"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in statements:
            params = (() if sql.startswith("TRUNCATE") else
                      ("x", inspection_id) if sql.startswith("UPDATE") else (inspection_id,))
            with pytest.raises(psycopg.Error) as refused:
                conn.execute(sql, params)
            assert signed_lock.LOCK_MARK in str(refused.value), sql
    assert dump(ctx) == before
    ctx.close()


# --- audit anchors ---------------------------------------------------------------------------------

def audit_verify(db: Path, *extra: str) -> tuple[int, str, str]:
    """``python main.py audit verify --db X`` as a user runs it."""
    done = subprocess.run([sys.executable, "main.py", "audit", "verify", "--db", str(db), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def head(db: Path) -> int:
    con = plain(db)
    try:
        return con.execute("SELECT max(seq) FROM audit_log").fetchone()[0] or 0
    finally:
        con.close()


@pytest.fixture
def sealed(station):
    """The station's head sealed (as ctx.close() does), the context closed; the database at rest."""
    station.ctx.close()
    count = head(station.db)
    assert count > 60
    lines = station.anchor_file.read_text().splitlines()
    assert len(lines) >= 1 and json.loads(lines[-1])["seq"] == count
    return station, count


def test_an_intact_chain_agrees_with_its_anchors(sealed):
    station, count = sealed
    before = station.digests()
    code, out, err = audit_verify(station.db)
    assert code == 0, err
    assert f"审计链完整：共 {count} 条记录" in out and "个锚点一致" in out
    assert station.digests() == before


def test_deleting_the_last_50_entries_is_reported(sealed):
    station, count = sealed
    con = plain(station.db)
    con.execute("DELETE FROM audit_log WHERE seq > ?", (count - 50,))
    con.close()
    before = station.digests()
    code, out, err = audit_verify(station.db)
    assert code == 2, out
    assert f"审计记录缺失：锚点记载至第 {count} 条" in err and f"数据库只有 {count - 50} 条" in err
    assert station.digests() == before


def test_an_emptied_audit_table_is_reported(sealed):
    station, count = sealed
    con = plain(station.db)
    con.execute("DELETE FROM audit_log")
    con.close()
    before = station.digests()
    code, _out, err = audit_verify(station.db)
    assert code == 2
    assert f"审计记录缺失：锚点记载至第 {count} 条" in err and "数据库只有 0 条" in err
    assert station.digests() == before


def recompute_chain(db: Path) -> None:
    """The attacker's script: every hash recomputed with ``entry_hash``, in order, after an edit."""
    con = plain(db)
    con.execute("BEGIN")
    prev = "0" * 64
    rows = con.execute("SELECT seq, at, actor, action, table_name, record_id, before_json, after_json"
                       " FROM audit_log ORDER BY seq").fetchall()
    for seq, at, actor, action, table, record_id, before_json, after_json in rows:
        digest = entry_hash(prev, datetime.fromisoformat(at).isoformat(), actor, action, table, record_id,
                            before_json, after_json)
        con.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq))
        prev = digest
    con.execute("COMMIT")
    con.close()


def test_a_chain_recomputed_after_an_edit_is_reported(sealed):
    station, count = sealed
    con = plain(station.db)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'signed_lock_%'"
                               ).fetchall():
        con.execute(f"DROP TRIGGER {name}")  # someone with the file can do that much
    con.execute("UPDATE inspections SET findings = '签名后改过' WHERE id = ?", (station.signed_id,))
    con.execute("UPDATE audit_log SET after_json = replace(after_json, '无异议', '有异议') WHERE seq = "
                "(SELECT min(seq) FROM audit_log WHERE after_json LIKE '%无异议%')")
    con.close()
    code, _out, err = audit_verify(station.db)
    assert code == 2 and "的内容被改动过" in err  # the edit alone breaks the chain
    recompute_chain(station.db)
    before = station.digests()
    code, _out, err = audit_verify(station.db)
    assert code == 2
    assert "审计记录被改写：第" in err and "的哈希与锚点不符" in err and "锚点文件 station.db.anchors" in err
    assert station.digests() == before


def test_an_edited_anchor_file_is_reported(sealed):
    station, _count = sealed
    lines = station.anchor_file.read_text().splitlines()
    first = json.loads(lines[0])
    first["seq"] = 3  # claim a shorter chain
    lines[0] = json.dumps(first, sort_keys=True)
    station.anchor_file.write_text("\n".join(lines) + "\n")
    before = station.digests()
    code, _out, err = audit_verify(station.db)
    assert code == 2
    assert "锚点文件 station.db.anchors 第 1 行的签名无效" in err
    assert station.digests() == before


def test_a_truncated_or_deleted_anchor_file_is_reported(sealed):
    station, _count = sealed
    lines = station.anchor_file.read_text().splitlines()
    station.anchor_file.write_text("\n".join(lines[:-1]) + ("\n" if len(lines) > 1 else ""))
    before = station.digests()
    code, _out, err = audit_verify(station.db)
    assert code == 2
    assert "锚点文件 station.db.anchors 缺少数据库记载的 1 个锚点" in err
    station.anchor_file.unlink()
    code, _out, err = audit_verify(station.db)
    assert code == 2 and "锚点文件 station.db.anchors 不存在" in err
    assert station.digests() == before


def test_a_backup_keeps_an_anchor_when_the_database_and_its_file_are_cut_alike(sealed):
    station, count = sealed
    backup = make_backup(station.db)
    con = plain(station.db)
    con.execute("DELETE FROM audit_log WHERE seq > ?", (count - 50,))
    con.execute("DELETE FROM audit_anchors WHERE seq > ?", (count - 50,))
    con.close()
    kept = [line for line in station.anchor_file.read_text().splitlines() if json.loads(line)["seq"] <= count - 50]
    station.anchor_file.write_text("".join(line + "\n" for line in kept))
    before = station.digests()
    code, _out, err = audit_verify(station.db)
    assert code == 2
    assert f"审计记录缺失：锚点记载至第 {count} 条" in err and f"备份 {backup.name}" in err
    assert station.digests() == before


def test_a_restore_is_not_taken_for_an_attack(sealed):
    station, count = sealed
    # (a stamp of its own: the restore's own backup of the current state is named by the second)
    backup = make_backup(station.db, now=datetime(2026, 1, 1, 8, 0, 0))
    ctx = AppContext.open(station.db)
    svc.update_details(ctx, station.draft_id, place="备份之后")
    ctx.close()
    assert head(station.db) > count
    restore_backup(backup, station.db)
    assert head(station.db) == count
    code, out, err = audit_verify(station.db)
    assert code == 0, err
    assert f"审计链完整：共 {count} 条记录" in out
    assert json.loads(station.anchor_file.read_text().splitlines()[-1])["kind"] == "restore"


def test_a_database_without_anchors_says_so(tmp_path, capsys):
    db = tmp_path / "old.db"
    ctx = AppContext.open(db)
    add_subject(ctx, SUBJECT)
    ctx.close()
    con = plain(db)
    con.execute("DELETE FROM audit_anchors")  # as a database from before anchors
    con.close()
    Path(f"{db}.anchors").unlink()
    code = main.main(["audit", "verify", "--db", str(db)])
    out = capsys.readouterr().out
    assert code == 0
    assert "审计链完整" in out and "没有找到任何锚点" in out


# --- anchors at the peer -------------------------------------------------------------------------

@pytest.fixture
def pair(tmp_path):
    station = AppContext.open(tmp_path / "station.db")
    subject = add_subject(station, SUBJECT)
    register_officers(station, [(o.name, o.cert_no) for o in OFFICERS])
    laptop, _data = enrolled_laptop(station, tmp_path, "笔记本1")
    pull_master_data(station, laptop, tmp_path / "down")
    signed_inspection(laptop, subject.id, OFFICERS)
    yield station, laptop, tmp_path
    laptop.close()
    station.close()


def test_the_station_keeps_the_laptops_anchor_and_catches_a_cut_laptop(pair, capsys):
    station, laptop, tmp_path = pair
    _send(laptop, station, tmp_path / "up1")
    laptop_db = Path(laptop.engine.url.database)
    count = head(laptop_db)
    with station.engine.connect() as conn:
        held = conn.exec_driver_sql("SELECT seq FROM audit_anchors WHERE source = 'peer' AND device_id = ?",
                                    (laptop.device_id,)).scalars().all()
    assert held == [count]
    laptop.close()
    # the laptop's holder cuts its log, its own anchors and its anchor file alike
    con = plain(laptop_db)
    con.execute("DELETE FROM audit_log WHERE seq > ?", (count - 50,))
    con.execute("DELETE FROM audit_anchors WHERE source = 'self' AND seq > ?", (count - 50,))
    con.close()
    lines = [ln for ln in Path(f"{laptop_db}.anchors").read_text().splitlines() if json.loads(ln)["seq"] <= count - 50]
    Path(f"{laptop_db}.anchors").write_text("".join(ln + "\n" for ln in lines))
    before = database_digest(laptop_db)
    code, _out, err = audit_verify(laptop_db, "--anchors-from", str(tmp_path / "station.db"))
    assert code == 2
    assert f"审计记录缺失：锚点记载至第 {count} 条" in err and "对方数据库 station.db 保存的锚点" in err
    assert database_digest(laptop_db) == before
    # the cut laptop syncs again: the station sees its head go back
    laptop = AppContext.open(laptop_db)
    _send(laptop, station, tmp_path / "up2")
    laptop.close()
    code, _out, err = audit_verify(tmp_path / "station.db")
    assert code == 2 and "设备 笔记本1 的审计记录倒退" in err and f"记载至第 {count} 条" in err


def test_a_package_with_a_forged_anchor_is_refused(pair):
    station, laptop, tmp_path = pair
    out = tmp_path / "up"
    out.mkdir()
    [package] = sync.export_packages(laptop, out)
    with __import__("zipfile").ZipFile(package) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    members.pop("manifest.sig")
    manifest["audit_anchor"]["seq"] += 100  # the device key signs the manifest; the anchor's own signature fails
    manifest_bytes = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    forged = tmp_path / "forged.zip"
    write_zip_atomically(forged, manifest_bytes, sign(sync.private_key(laptop), manifest_bytes), members)
    station_db = tmp_path / "station.db"
    before = database_digest(station_db), folder_digest(station.attachments_dir)
    with pytest.raises(InvalidInput, match="审计锚点无效"):
        sync.import_package(station, forged)
    assert (database_digest(station_db), folder_digest(station.attachments_dir)) == before
    code = main.main(["sync", "import", "--db", str(station_db), str(forged)])
    assert code == 2
    assert (database_digest(station_db), folder_digest(station.attachments_dir)) == before


def test_sealing_is_throttled_and_close_seals_the_rest(station, monkeypatch):
    monkeypatch.setattr(anchors.sealing, "SEAL_EVERY", 3600.0)
    with station.ctx.engine.connect() as conn:
        sealed_before = conn.exec_driver_sql("SELECT count(*) FROM audit_anchors").scalar()
    for n in range(5):
        svc.update_details(station.ctx, station.draft_id, place=f"第{n}处")
    with station.ctx.engine.connect() as conn:
        sealed_now = conn.exec_driver_sql("SELECT count(*) FROM audit_anchors").scalar()
    assert sealed_now - sealed_before <= 1  # at most the first of five transactions sealed
    station.ctx.close()
    assert json.loads(station.anchor_file.read_text().splitlines()[-1])["seq"] == head(station.db)
