"""``main.py hub migrate-db``: a station's SQLite hub copied into a new PostgreSQL database — every
table's rows, the sync state and the audit chain exactly, the photos readable — or nothing at all."""
from __future__ import annotations

from sqlalchemy import func, select

from core import inspections as svc
from core.attachments import read_attachment
from core.audit import verify_chain
from core.context import AppContext
from core.subjects import SubjectData, add_subject, search_subjects
from db.models import AuditEntry, Base
from tests.integration.helpers import answer_all, sign_all
from tests.integration.test_cli import run


def _counts(ctx) -> dict[str, int]:
    with ctx.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in Base.metadata.sorted_tables if t.name != "signed_lock_fresh"}


def test_a_station_hub_moves_to_postgresql_with_its_records_and_audit_chain(ctx, subject, officers, pg_server,
                                                                             tmp_path):
    from PIL import Image

    picture = tmp_path / "现场.jpg"
    Image.new("RGB", (64, 48), (90, 90, 90)).save(picture)
    signed = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    svc.add_photo(ctx, signed, "B2", picture)
    answer_all(ctx, signed, {"B2": "1批次无备案信息"})
    svc.update_details(ctx, signed, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(ctx, signed)
    sign_all(ctx, signed)
    draft = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    before = _counts(ctx)
    record = svc.load_inspection(ctx, signed)
    assert record.status == "signed" and before["audit_log"] > 10 and before["photos"] == 1
    source = str(ctx.engine.url.database)
    target = pg_server.create_database()

    moved = run("hub", "migrate-db", "--from", source, "--to", target, "--data-dir", str(tmp_path / "hub"))
    assert moved.returncode == 0, moved.stderr
    assert "行数与源数据库一致" in moved.stdout and "审计链完整" in moved.stdout
    county = AppContext.open(target, create=False, attachments_dir=tmp_path / "hub" / "attachments")
    try:
        assert _counts(county) == before
        assert verify_chain(county).ok and verify_chain(county).entries == before["audit_log"]
        copied = svc.load_inspection(county, signed)
        assert copied.content_hash == record.content_hash and copied.number == record.number
        assert svc.records.content_hash(copied) == record.content_hash
        assert read_attachment(county, copied.photos[0].path) == picture.read_bytes()
        assert county.device_id == ctx.device_id  # the same hub, to its laptops
        assert svc.load_inspection(county, draft).status == "draft"
        # it goes on: a new record's audit entry follows the copied chain
        add_subject(county, SubjectData(name="迁移后新增的店", category="cosmetics_operator"))
        assert [s.name for s in search_subjects(county, "迁移后新增")] == ["迁移后新增的店"]
        check = verify_chain(county)
        assert check.ok and check.entries > before["audit_log"]
        with county.sessions() as s:
            assert s.scalar(select(func.max(AuditEntry.seq))) == check.entries
    finally:
        county.close()

    again = run("hub", "migrate-db", "--from", source, "--to", target)
    assert again.returncode == 2 and "不是空的" in again.stderr and again.stderr.count("\n") == 1
    not_pg = run("hub", "migrate-db", "--from", source, "--to", str(tmp_path / "other.db"))
    assert not_pg.returncode == 2 and "PostgreSQL" in not_pg.stderr
