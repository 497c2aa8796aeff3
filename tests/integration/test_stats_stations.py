"""Statistics across stations (docs/statistics.md "Stations"): a county's database with three stations'
records; every station's figures, any several and all of them add up to the county's, on SQLite and
on a real PostgreSQL (skipped where no server can be started; CI runs it)."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest

from core.context import AppContext
from core.errors import InvalidInput
from core.reports import report_tables
from core.stats import Period, assign_devices, drill, report, stations
from core.subjects import SubjectData, add_subject
from core.users import add_user
from tests.integration.stats_station import PASSWORD, _at, _sign

ROOT = Path(__file__).resolve().parents[2]
Q4 = Period.quarter(2026, 4)
HOME = "示例市场监督管理所"  # the county database's own station (its default station_name)

# per station: (subject name, category, grid, [failures of each signed inspection in Q4])
STATIONS = {
    HOME: [("甲化妆品店", "cosmetics_operator", "东区", [{"B2": "无备案"}, {}]),
           ("甲药房", "drug_retailer", "东区", [])],
    "乙所": [("乙化妆品店", "cosmetics_operator", "北区", [{"B2": "无备案", "G1": "无记录"}]),
             ("乙美容院", "medical_beauty", "北区", [{}, {}, {"H1": "汇总"}])],
    "丙所": [("丙化妆品店", "cosmetics_operator", "南区", [{}])],
}
ADDITIVE = [("inspections", "total"), ("subjects_inspected", "total"), ("inspections_with_problems", "total"),
            ("failed_items", "total"), ("failed_items", "advisory"), ("rectifications_ordered", "total"),
            ("coverage", "register"), ("coverage", "inspected")]


def _fill(ctx: AppContext) -> dict[str, str]:
    """Each station's subjects and inspections, made on a device of that station; returns the devices."""
    from core.demo import demo_code

    _at(ctx, 2026, 1, 2, 9, 0)
    add_user(ctx, name="王建国", role="inspector", password=PASSWORD, cert_no="41170021001")
    add_user(ctx, name="李秀英", role="inspector", password=PASSWORD, cert_no="41170021002")
    home_device = ctx.device_id
    devices = {}
    code = 900
    for n, (station, subjects) in enumerate(STATIONS.items()):
        device = home_device if station == HOME else str(uuid.uuid4())
        devices[station] = device
        ctx._settings["device_id"] = device  # the records of a station's device, as sync would bring them
        for name, category, grid, signed in subjects:
            code += 1
            _at(ctx, 2026, 1, 2, 9, n)
            subject = add_subject(ctx, SubjectData(name=name, category=category, credit_code=demo_code(code),
                                                   grid=grid)).id
            for day, failures in enumerate(signed):
                _at(ctx, 2026, 10, 5 + day, 10, n)
                _sign(ctx, subject, failures)
    ctx._settings["device_id"] = home_device
    for station, device in devices.items():
        if station != HOME:
            assign_devices(ctx, station, [device])
    return devices


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def county(request, tmp_path_factory):
    if request.param == "postgresql":
        db = request.getfixturevalue("pg_server").create_database()
    else:
        db = str(tmp_path_factory.mktemp("county") / "county.db")
    ctx = AppContext.open(db)
    _fill(ctx)
    yield ctx, db
    ctx.close()


def _value(result: dict, figure: str, key: str) -> int:
    return result[figure][key]


def test_the_county_is_the_sum_of_its_stations(county):
    ctx, _db = county
    assert stations(ctx) == [HOME, "丙所", "乙所"]
    everyone = report(ctx, Q4)
    assert everyone["stations"] == [HOME, "丙所", "乙所"]
    assert everyone["inspections"]["total"] == 7 and everyone["subjects_inspected"]["total"] == 4
    each = {name: report(ctx, Q4, stations=[name]) for name in STATIONS}
    assert [each[n]["inspections"]["total"] for n in STATIONS] == [2, 4, 1]
    assert each["乙所"]["station"] == "乙所" and each["乙所"]["stations"] == ["乙所"]
    for figure, key in ADDITIVE:
        parts = [_value(each[n], figure, key) for n in STATIONS]
        assert sum(parts) == _value(everyone, figure, key), (figure, key, parts)
    # the breakdowns add up too, and the county's by-station row is each station's own total
    assert everyone["inspections"]["by_station"] == {n: each[n]["inspections"]["total"] for n in STATIONS}
    assert everyone["subjects_inspected"]["by_station"] == {n: each[n]["subjects_inspected"]["total"]
                                                           for n in STATIONS}
    for dimension in ("by_domain", "by_category", "by_grid", "by_kind", "by_month"):
        summed: dict = {}
        for n in STATIONS:
            for k, v in each[n]["inspections"][dimension].items():
                summed[k] = summed.get(k, 0) + v
        assert summed == everyone["inspections"][dimension], dimension
    assert each[HOME]["rectifications_ordered"]["total"] == 1 and each["乙所"]["failed_items"]["advisory"] == 1
    assert each[HOME]["coverage"]["register"] == 2  # its drug store counts in its register, uninspected
    # several: two stations are their sum; "all" is everyone
    two = report(ctx, Q4, stations=[HOME, "丙所"])
    assert two["inspections"]["total"] == 3 and two["station"] == f"{HOME}、丙所"
    assert report(ctx, Q4, stations=["all"])["inspections"] == everyone["inspections"]
    assert "by_station" in everyone["inspections"] and [t.code for t in report_tables(everyone)][0] == "by_station"


@pytest.mark.parametrize("chosen", [None, [HOME], ["乙所"], [HOME, "丙所"], ["乙所", "丙所"]])
def test_the_summary_gives_each_station_scope_the_counted_figure(county, chosen):
    """On SQLite the figure is read from the per-month subject sets (core/stats/summary.py), by station;
    on PostgreSQL counted — either way what counting the records gives (a range with part-months too)."""
    from core.stats import summary

    ctx, _db = county
    for period in (Q4, Period.range(date(2026, 9, 20), date(2026, 12, 31))):
        got = report(ctx, period, stations=chosen)
        original = summary.figure_rows, summary.coverage_rows
        summary.figure_rows = summary.coverage_rows = lambda *_a: None
        try:
            counted = report(ctx, period, stations=chosen)
        finally:
            summary.figure_rows, summary.coverage_rows = original
        assert got["inspections"] == counted["inspections"] and got["inspections"]["total"] > 0
        assert got["subjects_inspected"] == counted["subjects_inspected"]
        assert got["coverage"] == counted["coverage"] and got["coverage"]["inspected"] > 0
    with ctx.sessions() as s:
        assert (summary.figure_rows(s, Q4, True) is not None) == (ctx.engine.dialect.name == "sqlite")
        assert (summary.coverage_rows(s, Q4) is not None) == (ctx.engine.dialect.name == "sqlite")


def test_the_drill_down_lists_a_stations_records(county):
    ctx, _db = county
    everyone = report(ctx, Q4)
    for name, n in everyone["inspections"]["by_station"].items():
        rows = drill(ctx, Q4, "inspections", "by_station", name)
        assert len(rows) == n > 0
    rows = drill(ctx, Q4, "inspections", stations=["乙所"])
    assert len(rows) == 4 and {r.subject for r in rows} == {"乙化妆品店", "乙美容院"}


def test_unknown_stations_and_bad_assignments_are_refused(county):
    ctx, _db = county
    with pytest.raises(InvalidInput, match="没有站所“丁所”"):
        report(ctx, Q4, stations=["乙所", "丁所"])
    with pytest.raises(InvalidInput, match="无需登记"):
        assign_devices(ctx, HOME, [str(uuid.uuid4())])
    with pytest.raises(InvalidInput, match="设备编号"):
        assign_devices(ctx, "丁所", ["'; DROP TABLE x"])
    assert stations(ctx) == [HOME, "丙所", "乙所"]


def test_a_station_database_has_no_station_breakdown(tmp_path):
    ctx = AppContext.open(tmp_path / "station.db")
    result = report(ctx, Q4)
    assert "stations" not in result and "by_station" not in result["inspections"]
    assert report(ctx, Q4, stations=[HOME])["inspections"]["total"] == 0
    ctx.close()


def test_the_cli_counts_the_stations_asked_for(tmp_path):
    db = tmp_path / "county.db"
    ctx = AppContext.open(db)
    _fill(ctx)
    ctx.close()

    def run(*args):
        return subprocess.run([sys.executable, str(ROOT / "main.py"), "stats", "--db", str(db), "--period", "2026Q4",
                               *args], capture_output=True, text=True, cwd=ROOT, timeout=120)

    done = run("--station", "乙所,丙所", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inspections"]["total"] == 5
    done = run("--station", "乙所", "--station", HOME, "--json")
    assert json.loads(done.stdout)["inspections"]["total"] == 6
    done = run("--station", "all")
    assert done.returncode == 0 and "按站所" in done.stdout
    refused = run("--station", "丁所")
    assert refused.returncode == 2 and refused.stderr.startswith("错误：") and len(refused.stderr.splitlines()) == 1
