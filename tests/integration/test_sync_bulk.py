"""The import's bulk path (executemany on SQLite, COPY on PostgreSQL) gives what the careful path gives.

One package from a laptop (two signed inspections, one with a photo, and a draft) imported
into two identical copies of a station — by the bulk path into one, record by record into
the other (``core.sync.apply.BULK`` off) — on SQLite and on a real PostgreSQL: the same rows
in every synced table and in ``sync_base``, the same audit entries (one per record, same
actor, before and after), both chains whole.
"""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from core import inspections as svc
from core import sync
from core.audit import verify_chain
from core.context import AppContext
from core.subjects import SubjectData, add_subject
from core.sync import apply as sync_apply
from tests.integration.helpers import answer_all, register_officers
from tests.integration.test_sync import enrolled_laptop, inspect_offline, pull_master_data
from tests.support import rawdb

SHOP = dict(category="cosmetics_operator", legal_rep="张三", address="驻马店市驿城区测试路1号",
            phone="13800000000", grid="测试社区")
SKIPPED = {"template_snapshots"}  # keyed by sha256; compared through the inspections that use them


def _clone(engine: str, source: str, tmp_path: Path, pg_server=None) -> str:
    if engine == "sqlite":
        return str(rawdb.copy_db(source, tmp_path / "station-b.db"))
    name = f"{source.rsplit('/', 1)[1]}_b"
    with psycopg.connect(pg_server.url("postgres").replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source.rsplit("/", 1)[1]}"')
    return pg_server.url(name)


def _rows(ctx: AppContext) -> dict[str, list[tuple]]:
    tables = [t for t in sync.BY_TABLE if t not in SKIPPED]
    with ctx.engine.connect() as conn:
        out = {t: conn.execute(text(f'SELECT * FROM "{t}" ORDER BY id')).all() for t in tables}
        out["sync_base"] = conn.execute(text(
            "SELECT peer_id, table_name, record_id, version FROM sync_base ORDER BY table_name, record_id")).all()
        out["audit_log"] = sorted(conn.execute(text(
            "SELECT actor, action, table_name, record_id, before_json, after_json FROM audit_log")).all())
        out["template_snapshots"] = conn.execute(text("SELECT sha256 FROM template_snapshots ORDER BY sha256")).all()
    return out


def _station_and_laptop(engine, pg_server, tmp_path, attachments: str):
    """A station (SQLite file or a new PostgreSQL database) with its officers and one shop, and a
    laptop enrolled there that has pulled the master data."""
    db = pg_server.create_database() if pg_server else str(tmp_path / "station.db")
    station = AppContext.open(db, attachments_dir=tmp_path / attachments)
    register_officers(station)
    shop = add_subject(station, SubjectData(name="驿城区测试化妆品店", **SHOP))
    laptop, _enrolment = enrolled_laptop(station, tmp_path, "笔记本1")
    pull_master_data(station, laptop, tmp_path / "down")
    return db, station, shop, laptop


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_bulk_import_equals_careful_import(engine, request, tmp_path, officers, monkeypatch):
    pg_server = request.getfixturevalue("pg_server") if engine == "postgresql" else None
    db, station, shop, laptop = _station_and_laptop(engine, pg_server, tmp_path, "att-a")
    signed = [inspect_offline(laptop, shop.id, officers, tmp_path) for _ in range(2)]
    draft = svc.start_inspection(laptop, shop.id, "cosmetics-531", officers)
    answer_all(laptop, draft, {"B2": "1批次无备案信息"})
    [package] = sync.export_packages(laptop, tmp_path / "up")
    laptop.close()
    station.close()
    clone = _clone(engine, db, tmp_path, pg_server)

    bulk_counts = []
    real_bulk = sync_apply.bulk_insert
    monkeypatch.setattr(sync_apply, "bulk_insert", lambda *a: bulk_counts.append(real_bulk(*a)) or bulk_counts[-1])
    results = {}
    for name, url, bulk in (("bulk", db, True), ("careful", clone, False)):
        monkeypatch.setattr(sync_apply, "BULK", bulk)
        ctx = AppContext.open(url, attachments_dir=tmp_path / f"att-{name}")
        before = _rows(ctx)
        summary = sync.import_package(ctx, package)
        assert summary.conflicts == 0 and summary.applied > 0, summary
        check = verify_chain(ctx)
        assert check.ok, check.message
        results[name] = (summary.as_dict(), _rows(ctx), before)
        assert {i: svc.load_inspection(ctx, i).status for i in signed + [draft]} == {
            signed[0]: "signed", signed[1]: "signed", draft: "draft"}
        ctx.close()

    assert len(bulk_counts) == 1 and bulk_counts[0] == results["bulk"][0]["applied"] - 1  # all but the snapshot
    bulk, careful = results["bulk"], results["careful"]
    assert bulk[2] == careful[2]  # the two stations started equal
    assert bulk[0] == careful[0]
    added = len(bulk[1]["audit_log"]) - len(bulk[2]["audit_log"])
    assert added == bulk_counts[0] > 20  # one audit entry per record
    for table in bulk[1]:
        assert bulk[1][table] == careful[1][table], table


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_bulk_insert_failing_midway_writes_nothing(engine, request, tmp_path, officers, monkeypatch):
    """The records' bulk insert fails after its first table (rows already COPYed or inserted in the
    transaction): the import raises that error, nothing is written — records, audit entries,
    bases, the receipt —, and the same package goes in whole afterwards."""
    from core.sync import bulk as sync_bulk

    pg_server = request.getfixturevalue("pg_server") if engine == "postgresql" else None
    db, station, shop, laptop = _station_and_laptop(engine, pg_server, tmp_path, "att")
    signed = inspect_offline(laptop, shop.id, officers, tmp_path)
    [package] = sync.export_packages(laptop, tmp_path / "up")
    laptop.close()
    before = _rows(station)

    real, calls = sync_bulk.insert_json_rows, []

    def failing(connection, table, records, blobs):
        calls.append(table.name)
        if len(calls) == 2:
            raise RuntimeError("磁盘已满")
        real(connection, table, records, blobs)

    monkeypatch.setattr(sync_bulk, "insert_json_rows", failing)
    with pytest.raises(RuntimeError, match="磁盘已满"):
        sync.import_package(station, package)
    assert len(calls) == 2  # the first table went in, the second failed
    assert _rows(station) == before
    monkeypatch.setattr(sync_bulk, "insert_json_rows", real)
    summary = sync.import_package(station, package)
    assert not summary.already_imported  # the refused import left no receipt either
    assert summary.conflicts == 0 and summary.applied > 10
    assert svc.load_inspection(station, signed).status == "signed"
    assert verify_chain(station).ok
    station.close()
