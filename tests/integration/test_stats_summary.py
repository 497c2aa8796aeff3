"""The statistics summary (core/stats/summary.py, db/stats_summary.py): 检查家次 / 户数 read from per-month
subject sets equal the figure counted from the records — on the hand-built station for a month, a
quarter, a year and a range with part-months, and for a station scope — and the summary kept
incrementally by the triggers equals one rebuilt from the records after every kind of write."""
from __future__ import annotations

import subprocess
import sys
from array import array
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from core import inspections as svc
from core import sync
from core.context import AppContext
from core.corrections import approve_correction, request_correction
from core.deletions import delete_subject
from core.demo import demo_code
from core.stats import Period, assign_devices, report
from core.stats import summary
from core.subjects import SubjectData, add_subject, get_subject, update_subject
from core.sync import apply as sync_apply
from core.tasks import list_tasks, record_event, start_task
from core.users import add_user
from core.void_register import void_draft
from db.models import TaskReason
from tests.integration.helpers import answer_all, officer_passwords, ready_to_sign, sign_all, signed_inspection
from tests.integration.stats_station import build
from tests.integration.test_sync import enrolled_laptop, inspect_offline, pull_master_data

ROOT = Path(__file__).resolve().parents[2]
EVERYTHING = Period.range(date(2000, 1, 1), date(2100, 12, 31))
SHOP = dict(category="cosmetics_operator", legal_rep="张三", address="驻马店市驿城区测试路1号",
            phone="13800000000", grid="测试社区")


def _figure(ctx: AppContext, period: Period, *, counted: bool = False, stations=None):
    """(inspections, households) as the report gives them; ``counted``: with the summary switched off."""
    original = summary.figure_rows
    if counted:
        summary.figure_rows = lambda *_a: None
    try:
        result = report(ctx, period, stations=stations)
    finally:
        summary.figure_rows = original
    return result["inspections"], result["subjects_inspected"]


def _used(ctx: AppContext, period: Period) -> bool:
    with ctx.sessions() as s:
        return summary.figure_rows(s, period, False) is not None


def _stored(ctx: AppContext) -> dict:
    """Every stored set, its members as subject ids (keys differ between an incremental and a rebuilt summary)."""
    with ctx.sessions() as s:
        summary.figure_rows(s, EVERYTHING, False)  # every dirty month recomputed
        conn = s.connection()
        ids = dict(conn.exec_driver_sql("SELECT key, subject_id FROM stats_subject_keys").all())
        assert conn.exec_driver_sql("SELECT count(*) FROM stats_dirty").scalar() == 0
        out = {}
        for month, station, dim, key, n, blob in conn.exec_driver_sql("SELECT * FROM stats_sets").all():
            if blob[:1] == b"D":
                bits = int.from_bytes(blob[1:], "little")
                members = {i for i in range(bits.bit_length()) if bits >> i & 1}
            else:
                members = set(array("I", blob[1:]))
            out[(month, station, dim, key)] = (n, frozenset(ids[m] for m in members))
    return out


def _rebuilt(ctx: AppContext) -> dict:
    with ctx.sessions.begin() as s:
        summary.rebuild(s)
    return _stored(ctx)


def _agree(ctx: AppContext, *, cells: int | None = None) -> dict:
    """The incremental summary equals the rebuilt one, and the year's figure the counted one."""
    incremental = _stored(ctx)
    assert incremental == _rebuilt(ctx)
    if cells is not None:
        assert len(incremental) == cells
    year = Period.year(ctx.clock().year)
    assert _used(ctx, year)
    assert _figure(ctx, year) == _figure(ctx, year, counted=True)
    return incremental


# --- the figure from the summary equals the figure counted -----------------------------------------

@pytest.fixture(scope="module")
def station(tmp_path_factory):
    db = tmp_path_factory.mktemp("summary") / "station.db"
    ctx = AppContext.open(db)
    build(ctx)
    yield ctx, db
    ctx.close()


@pytest.mark.parametrize("period,whole", [
    (Period.month(2026, 10), True),
    (Period.quarter(2026, 4), True),
    (Period.year(2026), True),
    (Period.range(date(2026, 9, 15), date(2026, 11, 20)), True),   # October whole, September and November in part
    (Period.range(date(2026, 9, 1), date(2027, 1, 5)), True),      # ends on the day of a signing after the year
    (Period.range(date(2026, 10, 9), date(2026, 10, 20)), False),  # no whole month: counted from the records
])
def test_the_summary_gives_the_counted_figure(station, period, whole):
    ctx, _db = station
    assert _used(ctx, period) is whole
    got, counted = _figure(ctx, period), _figure(ctx, period, counted=True)
    assert got == counted
    assert got[0]["total"] > 0 and got[1]["total"] > 0
    assert _coverage(ctx, period) == _coverage(ctx, period, counted=True)  # 0 before the subjects were entered


def _coverage(ctx: AppContext, period: Period, *, counted: bool = False) -> dict:
    """覆盖率 as the report gives it; ``counted``: its numerator from the records, not the subject sets."""
    original = summary.coverage_rows
    if counted:
        summary.coverage_rows = lambda *_a: None
    try:
        return report(ctx, period)["coverage"]
    finally:
        summary.coverage_rows = original


def test_the_hand_built_quarter_from_the_summary(station):
    inspections, households = _figure(station[0], Period.quarter(2026, 4))
    assert (inspections["total"], households["total"]) == (5, 3)
    assert inspections["by_origin"] == {"reinspection": 1, "routine": 3, "trigger": 1}
    assert households["by_inspector"] == {"李秀英": 3, "王建国": 3}
    assert inspections["by_month"] == {"2026-10": 4, "2026-11": 1}
    coverage = _coverage(station[0], Period.quarter(2026, 4))
    assert coverage == _coverage(station[0], Period.quarter(2026, 4), counted=True)
    assert coverage["inspected"] == 3 and sum(c["inspected"] for c in coverage["by_category"].values()) == 3


def test_a_tampered_or_stale_summary_is_repaired_by_rebuild(station):
    ctx, _db = station
    q4 = Period.quarter(2026, 4)
    right = _figure(ctx, q4, counted=True)
    assert _figure(ctx, q4) == right
    with ctx.sessions.begin() as s:  # a count changed, a set emptied of all but one member, a cell removed
        s.execute(text("UPDATE stats_sets SET n = n + 7 WHERE month = '2026-10' AND dim = 'by_kind'"))
        s.execute(text("UPDATE stats_sets SET members = X'5301000000' WHERE month = '2026-11'"))
        s.execute(text("DELETE FROM stats_sets WHERE month = '2026-10' AND dim = 'by_inspector'"))
    assert _figure(ctx, q4) != right  # the test can fail: the figure is read from the summary
    with ctx.sessions.begin() as s:
        assert summary.rebuild(s) >= 3
    assert _figure(ctx, q4) == right
    # stale: a change whose dirty mark was lost (what the triggers prevent) stays wrong until rebuilt
    with ctx.sessions.begin() as s:
        s.execute(text("UPDATE subjects SET grid = '别的网格' WHERE grid = '东区'"))
        s.execute(text("DELETE FROM stats_dirty"))
    right = _figure(ctx, q4, counted=True)
    assert _figure(ctx, q4) != right
    with ctx.sessions.begin() as s:
        s.execute(text("UPDATE stats_sets SET members = X'53010000' WHERE month = '2026-10'"))  # damaged
    assert _figure(ctx, q4) == right  # a damaged set: counted from the records instead
    with ctx.sessions.begin() as s:
        assert summary.rebuild(s) >= 3
    assert _figure(ctx, q4) == right


def test_coverage_counts_only_the_register_from_the_summary(ctx, subject, officers):
    """An inspected shop that has since closed (停业) is not in the register: the sets hold it, the
    coverage's numerator must not count it."""
    closed = add_subject(ctx, SubjectData(name="已停业的店", **SHOP))
    for shop in (subject, closed):
        signed_inspection(ctx, shop.id, officers)
    update_subject(ctx, closed.id, SubjectData(name="已停业的店", **{**SHOP, "status": "closed"}))
    today = date.today()
    period = Period.quarter(today.year, (today.month - 1) // 3 + 1)
    assert _used(ctx, period)
    coverage = _coverage(ctx, period)
    assert coverage == _coverage(ctx, period, counted=True)
    assert coverage["by_category"][SHOP["category"]]["inspected"] == 1


# --- kept right on every write -----------------------------------------------------------------------

def test_incremental_equals_rebuilt_after_each_kind_of_write(ctx, subject, officers):
    first = signed_inspection(ctx, subject.id, officers)  # signing
    cells = _agree(ctx)
    assert cells and all(n == 1 for n, _m in cells.values())

    # a correction: a new record of its own, signed after the admin's approval
    correction = request_correction(ctx, first, statement="第 B2 项说明更正", reason="笔误")
    svc.complete_inspection(ctx, correction)
    admin = add_user(ctx, name="张所长", role="admin", password="secret-123")
    ctx.user = admin
    approve_correction(ctx, correction)
    ctx.user = None
    ready_to_sign(ctx, correction)
    svc.sign_inspection(ctx, correction, officer_passwords(ctx, correction))
    after_correction = _agree(ctx)
    assert max(n for n, _m in after_correction.values()) == 2

    # a voided draft counts nowhere
    draft = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    void_draft(ctx, draft, "开错了检查表")
    assert _agree(ctx) == after_correction

    # the subject's grid and category as they are in the register now (past months' sets move)
    data = get_subject(ctx, subject.id)
    update_subject(ctx, subject.id, SubjectData(name=data.name, category="medical_beauty",
                                                credit_code=data.credit_code, legal_rep=data.legal_rep,
                                                address=data.address, phone=data.phone, grid="新网格"))
    moved = _agree(ctx)
    assert {k for (_m, _s, d, k) in moved if d in ("by_grid", "by_category")} == {"新网格", "medical_beauty"}

    # a task from a trigger event: its inspection's origin; then a reason added to the done task
    other = add_subject(ctx, SubjectData(name="驿城区另一化妆品店", credit_code=demo_code(902), **SHOP))
    record_event(ctx, other.id, "complaint", ctx.clock().date(), source_ref="TS-9")
    [task] = [t for t in list_tasks(ctx, status="open") if t.subject_id == other.id]
    from_task = start_task(ctx, task.id, officers)
    answer_all(ctx, from_task, {})
    svc.update_details(ctx, from_task, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(ctx, from_task)
    sign_all(ctx, from_task)
    assert ("trigger" in {k for (_m, _s, d, k) in _agree(ctx) if d == "by_origin"})
    with ctx.sessions.begin() as s:
        reasons = s.query(TaskReason).filter_by(task_id=task.id).all()
        assert len(reasons) == 1
        s.delete(reasons[0])  # the task's only reason gone: its inspection is no longer from a trigger
    _agree(ctx)

    # station_devices: this device's records belong to another station now
    assign_devices(ctx, "乙所", [ctx.device_id])
    stations = _agree(ctx)
    assert {s for (_m, s, _d, _k) in stations} == {"乙所"}
    year = Period.year(ctx.clock().year)
    assert _figure(ctx, year, stations=["乙所"]) == _figure(ctx, year, stations=["乙所"], counted=True)


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "record-by-record"])
def test_incremental_equals_rebuilt_after_sync_import_and_tombstones(bulk, ctx, officers, tmp_path, monkeypatch):
    from tests.integration.helpers import register_officers

    monkeypatch.setattr(sync_apply, "BULK", bulk)
    register_officers(ctx)
    shop = add_subject(ctx, SubjectData(name="驿城区测试化妆品店", credit_code=demo_code(901), **SHOP))
    mistaken = add_subject(ctx, SubjectData(name="驿城区测试化妆品店（重复）", credit_code=demo_code(903), **SHOP))
    laptop, _data = enrolled_laptop(ctx, tmp_path, "笔记本1")
    pull_master_data(ctx, laptop, tmp_path / "down")
    signed = [inspect_offline(laptop, shop.id, officers, tmp_path) for _ in range(2)]
    [package] = sync.export_packages(laptop, tmp_path / "up")
    assert sync.import_package(ctx, package).applied > 0
    cells = _agree(ctx)
    assert {n for (_m, _s, d, _k), (n, _members) in cells.items() if d == "by_kind"} == {len(signed)}

    # tombstones: the station deletes a subject; the laptop applies the deletion and its own counts hold
    delete_subject(ctx, mistaken.id)
    folder = tmp_path / "d2"
    folder.mkdir()
    for path in sync.export_packages(ctx, folder, peer=laptop.device_id):
        sync.import_package(laptop, path)
    assert _agree(laptop)
    assert _agree(ctx) == cells
    laptop.close()


def test_cli_rebuild_summary(station):
    _ctx, db = station
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "stats", "rebuild-summary", "--db", str(db)],
                            capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("已重建统计摘要：") and "个月" in result.stdout


def test_postgresql_counts_from_the_records(pg_server):
    ctx = AppContext.open(pg_server.create_database())
    try:
        with ctx.sessions() as s:
            assert summary.figure_rows(s, Period.year(2026), False) is None
            assert summary.rebuild(s) == 0
    finally:
        ctx.close()

