"""The two sync load benchmarks at a tiny size: their correctness checks hold (no time is asserted).

* tests/perf/sync_growth_bench.py — the real sync import at growing package sizes;
* tests/perf/hub_load_bench.py — many stations' laptops pushing to one hub at once, on SQLite and
  on PostgreSQL, with the hub's concurrency bound low enough that senders are told to retry.
"""
from __future__ import annotations

import pytest

from tests.perf import generate, hub_load_bench, sync_growth_bench


def test_growth_bench_tiny(tmp_path):
    db = tmp_path / "station.db"
    generate.generate(db, generate.Scale(subjects=60, inspections=80, stations=1, audit_entries=400), 3,
                      log=lambda _text: None)
    result = sync_growth_bench.run(db, [20, 40])
    sizes = result["sizes"]
    assert [r["inspections"] for r in sizes] == [20, 40]
    assert len(sizes) == 2 and all(r["checks_ok"] and r["conflicts"] == 0 for r in sizes)
    assert sizes[1]["records"] > sizes[0]["records"] > 20
    for r in sizes:
        for key in ("import_us_per_record", "import_us_per_inspection", "export_us_per_record", "bare_us_per_record"):
            assert r[key] > 0, key
    assert set(result["linearity"]) == {"from", "to", "import", "export", "bare", "bare_export"}
    assert result["checks_ok"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["station.db"] + (
        ["station.db.keys"] if (tmp_path / "station.db.keys").exists() else [])  # the copies went


@pytest.fixture(params=["sqlite", "postgresql"])
def county_db(request, tmp_path):
    if request.param == "postgresql":
        return "postgresql", request.getfixturevalue("pg_server").create_database()
    return "sqlite", str(tmp_path / "county.db")


def test_hub_load_bench_tiny(county_db, tmp_path):
    engine, db = county_db
    kept: dict = {}
    result = hub_load_bench.run(db, tmp_path, stations=3, laptops=2, size=1, mode="thread", limit=2, engine=engine,
                                keep=kept)
    checks = result["checks"]
    assert result["senders"] == 6 and result["devices_enrolled"] == 6
    assert result["errors"] == 0 and result["stuck"] == 0, result["error_messages"]
    assert result["retries_busy"] > 0  # the bound was hit and the senders came back
    assert checks["counts_match"] and checks["expected"]["inspections"] == 6 == checks["grown"]["inspections"]
    assert checks["ids_missing"] == 0 and checks["ids_duplicated"] == 0
    assert checks["conflicts"] == 0 and checks["sync_conflicts_rows"] == 0
    assert checks["audit_added"] == result["records"] - checks["expected"].get("template_snapshots", 0)
    assert checks["audit_one_per_record"] and checks["audit_forks"] == 0 and checks["chain_ok"]
    assert result["ok"]

    # the checks can fail: a record a package carried that the hub does not hold is reported
    from core.context import AppContext

    hub = AppContext.open(db)
    try:
        senders = kept["senders"]
        after = hub_load_bench.table_counts(hub, kept["tables"])
        senders[0].ids["inspections"].append("00000000-0000-7000-8000-000000000000")
        senders[0].counts["inspections"] += 1
        lost = hub_load_bench.check(hub, senders, kept["before"], after)
    finally:
        hub.close()
    assert not lost["ok"] and lost["ids_missing"] == 1 and not lost["counts_match"]
