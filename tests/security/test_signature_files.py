"""Signature images as attachment files (issue 15): written encrypted, read through
``core.attachments`` and checked against the row's SHA-256; old PNGs moved out of the database
crash-safe with every record's hash unchanged; the signed-record lock lets exactly that change
through; a missing or swapped image prints with a marker and fails verification, never crashes;
sync and backups carry the files.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core import inspections as svc
from core import sync
from core.attachments import MAGIC, read_attachment
from core.backup import make_backup, restore_backup
from core.context import AppContext
from core.errors import InvalidInput
from core.inspections import signature_files
from core.inspections.signature_files import move_signatures, store_signature
from core.printing import render_form
from core.verification import make_payload, verify_payload
from db import signed_lock
from db.signed_rewrite import rewrite_signed_rows
from tests.integration.helpers import register_officers, signature_png, signed_inspection
from tests.integration.pdfcheck import pdf_text
from tests.integration.test_sync import enrolled_laptop, inspect_offline, pull_master_data
from tests.support import rawdb

MARKER = "签名图像文件缺失或无法读取"


def signature_rows(ctx: AppContext) -> list[tuple[str, str, bytes | None]]:
    with ctx.engine.connect() as conn:
        return [(i, s, None if p is None else bytes(p))
                for i, s, p in conn.exec_driver_sql("SELECT id, sha256, png FROM signatures ORDER BY id")]


def into_the_database(ctx: AppContext) -> int:
    """As a database of before 0023 holds them: every PNG in its row and no file (written the
    way a migration rewrites signed rows, the lock lifted and every hash proven after)."""
    rows = signature_rows(ctx)
    images = {sha: read_attachment(ctx, svc.signature_path(ctx, sha)) for _id, sha, _png in rows}

    def put_back(conn):
        for row_id, sha, _png in rows:
            mark = "?" if conn.dialect.name == "sqlite" else "%s"
            conn.exec_driver_sql(f"UPDATE signatures SET png = {mark} WHERE id = {mark}", (images[sha], row_id))

    with ctx.engine.begin() as conn:
        rewrite_signed_rows(conn, put_back)
    for sha in images:
        svc.signature_path(ctx, sha).unlink()
    return len(rows)


def hashes(ctx: AppContext, inspection_id: str) -> tuple[str, str]:
    record = svc.load_inspection(ctx, inspection_id)
    return record.content_hash, record.current_hash()


def test_a_new_signature_is_an_encrypted_file_and_its_row_keeps_the_hash_only(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    rows = signature_rows(ctx)
    assert len(rows) == 4 and ctx.file_key is not None
    assert [png for _i, _s, png in rows] == [None] * 4
    for _id, sha, _png in rows:
        raw = svc.signature_path(ctx, sha).read_bytes()
        assert raw.startswith(MAGIC) and b"\x89PNG" not in raw and b"IHDR" not in raw
    record = svc.load_inspection(ctx, inspection_id)
    assert len(record.signatures) == 4
    assert all(s.png == signature_png() and not s.problem for s in record.signatures.values())
    assert record.current_hash() == record.content_hash
    assert verify_payload(ctx, make_payload(record, "record")).ok


def test_moving_old_signatures_keeps_every_hash_and_a_second_run_is_harmless(ctx, subject, officers):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    before = hashes(ctx, inspection_id)
    assert into_the_database(ctx) == 4
    assert sum(png is not None for _i, _s, png in signature_rows(ctx)) == 4
    record = svc.load_inspection(ctx, inspection_id)  # a row of before still reads, from its column
    assert hashes(ctx, inspection_id) == before and all(not s.problem for s in record.signatures.values())
    # killed after writing one file, before NULLing its column: the next run finishes
    first = signature_rows(ctx)[0]
    store_signature(ctx, first[2])
    summary = move_signatures(ctx, chunk=3)
    assert (summary.moved, summary.damaged, summary.remaining) == (4, 0, 0)
    assert [png for _i, _s, png in signature_rows(ctx)] == [None] * 4
    assert move_signatures(ctx).moved == 0
    assert hashes(ctx, inspection_id) == before
    record = svc.load_inspection(ctx, inspection_id)
    assert verify_payload(ctx, make_payload(record, "record")).ok
    assert all(s.png == signature_png() for s in record.signatures.values())


@pytest.mark.parametrize("change", [
    "UPDATE signatures SET png = NULL, signer_name = '冒签'",
    "UPDATE signatures SET png = NULL, sha256 = '00'",
    "UPDATE signatures SET png = NULL, updated_at = '2020-01-01 00:00:00.000000'",
    "UPDATE signatures SET png = NULL, version = version + 1",
    "UPDATE signatures SET png = x'89504e47'",
    "DELETE FROM signatures",
])
def test_the_lock_lets_only_the_png_to_null_through(ctx, subject, officers, change):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    signed = hashes(ctx, inspection_id)
    into_the_database(ctx)
    before = signature_rows(ctx)
    db = ctx.engine.url.database
    con = rawdb.connect(db, isolation_level=None)
    try:
        with pytest.raises(rawdb.IntegrityError, match=signed_lock.LOCK_MARK):
            con.execute(change)
        assert signature_rows(ctx) == before
        con.execute("UPDATE signatures SET png = NULL")  # the move's own change
        assert [png for _i, _s, png in signature_rows(ctx)] == [None] * 4
        with pytest.raises(rawdb.IntegrityError, match=signed_lock.LOCK_MARK):
            con.execute("UPDATE signatures SET png = x'89504e47'")  # and never back
    finally:
        con.close()
    assert hashes(ctx, inspection_id) == signed


def test_a_png_that_does_not_match_its_hash_stays_in_the_database(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    svc.add_signature(ctx, inspection_id, "officer1", "王建国", signature_png())
    with ctx.engine.begin() as conn:  # a draft: not locked; an altered image put in its column
        conn.exec_driver_sql("UPDATE signatures SET png = ?", (b"\x89PNG\r\n\x1a\nforged",))
    summary = move_signatures(ctx)
    assert (summary.moved, summary.damaged, summary.remaining) == (0, 1, 1)
    [signature] = svc.load_inspection(ctx, inspection_id).signatures.values()
    assert signature.png == b"" and "摘要不符" in signature.problem


def test_some_old_signatures_move_at_every_open(ctx, subject, officers, monkeypatch):
    signed_inspection(ctx, subject.id, officers)
    into_the_database(ctx)
    db = ctx.engine.url.database
    ctx.close()
    monkeypatch.setattr(signature_files, "AT_OPEN", 3)
    again = AppContext.open(db)
    try:
        assert sum(png is None for _i, _s, png in signature_rows(again)) == 3
    finally:
        again.close()


# --- hostile files --------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["missing", "swapped", "edited"])
def test_a_missing_or_altered_image_prints_a_marker_and_fails_verification(ctx, subject, officers, tmp_path, damage):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    record = svc.load_inspection(ctx, inspection_id)
    party = svc.signature_path(ctx, record.signatures["party"].sha256)
    if damage == "missing":
        party.unlink()
    elif damage == "swapped":  # another attachment's valid file copied over the name
        other = store_signature(ctx, signature_png() + b"\x00")
        shutil.copyfile(svc.signature_path(ctx, other), party)
    else:
        raw = bytearray(party.read_bytes())
        raw[len(raw) // 2] ^= 1
        party.write_bytes(bytes(raw))
    record = svc.load_inspection(ctx, inspection_id)
    assert record.signatures["party"].png == b"" and record.signatures["party"].problem
    # the helper draws the same image for every signer: one file, named by its content, for all four
    assert sum(bool(s.problem) for s in record.signatures.values()) == 4
    assert record.current_hash() == record.content_hash  # the record itself is as it was signed
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(render_form(ctx, record, "record"))
    assert MARKER in "".join(pdf_text(pdf).split())  # the marker may wrap in its narrow cell
    verdict = verify_payload(ctx, make_payload(record, "record"))
    assert not verdict.ok and "签名图像文件缺失或已损坏" in verdict.message


# --- sync and backups ---------------------------------------------------------------------------------

def test_an_old_laptop_database_syncs_its_images_as_files(ctx, subject, officers, tmp_path):
    register_officers(ctx)
    laptop, _data = enrolled_laptop(ctx, tmp_path, "笔记本1")
    try:
        pull_master_data(ctx, laptop, tmp_path / "down")
        inspection_id = inspect_offline(laptop, subject.id, officers, tmp_path)
        before = hashes(laptop, inspection_id)
        into_the_database(laptop)  # the sender's images still in its database (before 0023)
        [package] = sync.export_packages(laptop, tmp_path / "up")
        sync.import_package(ctx, package)
        rows = signature_rows(ctx)
        assert len(rows) == 4 and [png for _i, _s, png in rows] == [None] * 4
        assert all(svc.signature_path(ctx, sha).read_bytes().startswith(MAGIC) for _i, sha, _p in rows)
        record = svc.load_inspection(ctx, inspection_id)
        assert hashes(ctx, inspection_id) == before and all(not s.problem for s in record.signatures.values())
        # a laptop whose image file is gone refuses to export rather than send a record without it
        move_signatures(laptop)
        svc.signature_path(laptop, rows[0][1]).unlink()
        with laptop.engine.begin() as conn:  # the record goes again
            conn.exec_driver_sql("DELETE FROM sync_base")
        with pytest.raises(InvalidInput, match="签名图像无法读取"):
            sync.export_packages(laptop, tmp_path / "up2")
    finally:
        laptop.close()


def test_a_restored_backup_prints_its_signatures(ctx, subject, officers, tmp_path):
    inspection_id = signed_inspection(ctx, subject.id, officers)
    db = Path(ctx.engine.url.database)
    backup = make_backup(db)
    ctx.close()
    shutil.rmtree(db.parent / f"{db.stem}-attachments")  # the laptop's attachments lost
    restore_backup(backup, db)
    again = AppContext.open(db)
    try:
        record = svc.load_inspection(again, inspection_id)
        assert len(record.signatures) == 4 and all(s.png and not s.problem for s in record.signatures.values())
        pdf = tmp_path / "restored.pdf"
        pdf.write_bytes(render_form(again, record, "record"))
        assert MARKER not in pdf_text(pdf)
        assert verify_payload(again, make_payload(record, "record")).ok
    finally:
        again.close()


def test_a_backup_restored_into_a_database_with_another_key_opens_its_attachments(ctx, subject, officers, tmp_path):
    """Restored into another encrypted database (a replaced laptop set up anew, then its old
    backup restored): the rows are re-keyed into it, and so must its files be, or none opens."""
    from db import cipher

    inspection_id = signed_inspection(ctx, subject.id, officers)
    backup = make_backup(Path(ctx.engine.url.database))
    ctx.close()
    other = tmp_path / "new-laptop" / "inspections.db"
    other.parent.mkdir()
    AppContext.open(other).close()  # its own key
    assert cipher.key_of(other) not in (None, cipher.key_of(backup))
    restore_backup(backup, other)
    again = AppContext.open(other)
    try:
        record = svc.load_inspection(again, inspection_id)
        assert len(record.signatures) == 4 and all(s.png and not s.problem for s in record.signatures.values())
        files = sorted((other.parent / "inspections-attachments").rglob("*.png"))
        assert len(files) >= 1 and all(f.read_bytes().startswith(MAGIC) for f in files)  # one image, four roles
        assert all(read_attachment(again, f) for f in files)
        assert verify_payload(again, make_payload(record, "record")).ok
    finally:
        again.close()


def test_postgresql_lets_only_the_png_to_null_through(pg_server, tmp_path):
    import psycopg

    from core.subjects import SubjectData, add_subject
    from tests.conftest import OFFICERS_DATA

    url = pg_server.create_database()
    ctx = AppContext.open(url, attachments_dir=tmp_path / "att")
    try:
        subject = add_subject(ctx, SubjectData(name="驿城区测试化妆品店", category="cosmetics_operator",
                                               credit_code="91350100M000100Y43", legal_rep="张三"))
        inspection_id = signed_inspection(ctx, subject.id, [svc.OfficerData(n, c) for n, c in OFFICERS_DATA])
        signed = hashes(ctx, inspection_id)
        assert into_the_database(ctx) == 4
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as conn:
            for sql in ("UPDATE signatures SET png = NULL, signer_name = 'x'", "UPDATE signatures SET png = 'x'",
                        "UPDATE signatures SET png = NULL, updated_at = now()"):
                with pytest.raises(psycopg.Error, match=signed_lock.LOCK_MARK):
                    conn.execute(sql)
        assert move_signatures(ctx).moved == 4
        assert [png for _i, _s, png in signature_rows(ctx)] == [None] * 4
        assert hashes(ctx, inspection_id) == signed
        with psycopg.connect(dsn, autocommit=True) as conn:
            with pytest.raises(psycopg.Error, match=signed_lock.LOCK_MARK):
                conn.execute("UPDATE signatures SET png = 'x'")
    finally:
        ctx.close()


def test_the_cli_moves_them_all(ctx, subject, officers, capsys, monkeypatch):
    import json

    from tests.integration.test_sync import cli

    signed_inspection(ctx, subject.id, officers)
    into_the_database(ctx)
    monkeypatch.setattr(signature_files, "AT_OPEN", 1)  # the command's own open moves one
    code, out, err = cli(capsys, "attachments", "move-signatures", "--db", ctx.engine.url.database, "--json")
    assert code == 0, err
    assert json.loads(out) == {"moved": 3, "damaged": 0, "remaining": 0}
    assert [png for _i, _s, png in signature_rows(ctx)] == [None] * 4
