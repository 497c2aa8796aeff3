"""Measure the statistics (docs/statistics.md) on a database made by ``tests.perf.generate``.

    python -m tests.perf.stats_bench --db /tmp/perf/city.db [--period 2026] [--repeat 3] [--json]

Targets (issue 14): a year's full report ≤ 2 s; any single figure with its breakdowns
≤ 300 ms. Each is measured against a bare SQL ``GROUP BY`` over the same rows in the same
run (sqlite3, no ORM): the period's signed inspections joined to their subjects, grouped by
category. 检查家次 + 户数 is read from the per-month subject sets on SQLite
(core/stats/summary.py: opening the file migrates it to 0024, and the first figure builds the
months it reads); it is also timed counted from the records, as on PostgreSQL. Reads the
records only (the context adds missing settings rows; the summary's dirty months are
recomputed). Not collected by pytest; progress goes to stderr.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BARE = ("SELECT s.category, count(*), count(DISTINCT i.subject_id) FROM inspections i "
        "JOIN subjects s ON s.id = i.subject_id "
        "WHERE i.status = 'signed' AND i.signed_at >= ? AND i.signed_at < ? GROUP BY s.category")


def _best(fn, repeat: int) -> tuple[float, float, object]:
    """The best wall time and the best CPU time (this process: Python and SQLite, which runs in it) of
    ``repeat`` calls. On a loaded machine the CPU time varies far less than the wall time."""
    times, cpu, value = [], [], None
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        value = fn()
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return min(times), min(cpu), value


def run(db: Path, period_text: str, repeat: int) -> dict:
    from core.context import AppContext
    from core import published
    from core.stats import common, oversight, parse_period, report, scope, summary, work

    period = parse_period(period_text)
    ctx = AppContext.open(db)
    trigger_rules, grade_table = published.rules(ctx)
    bounds = (period.begins.isoformat(sep=" "), period.ends.isoformat(sep=" "))
    raw = rawdb.connect(db)
    bare, bare_cpu, rows = _best(lambda: raw.execute(BARE, bounds).fetchall(), repeat)
    raw.close()
    print(f"bare GROUP BY: {bare * 1000:.0f} ms ({sum(r[1] for r in rows)} inspections)", file=sys.stderr)
    def counted(session, period):
        # the same figure with the summary switched off: counted from the records, as on PostgreSQL
        original, summary.figure_rows = summary.figure_rows, lambda *_a: None
        try:
            return work.inspections_and_subjects(session, period)
        finally:
            summary.figure_rows = original

    figures = {
        "inspections+subjects_inspected": work.inspections_and_subjects,
        "inspections+subjects_inspected (counted, no summary)": counted,
        "inspections_with_problems": work.inspections_with_problems,
        "failed_items": work.failed_items,
        **{name: (lambda session, period, name=name: work.rectification_figure(session, period, name))
           for name in work.RECTIFICATION_FIGURES},
        "rectifications (the 4 figures together)": work.rectifications,
        "coverage": oversight.coverage,
        "plan": oversight.plan,
        "triggers": lambda session, period: oversight.triggers(session, period, trigger_rules),
        "leads": oversight.leads,
        "grades": lambda session, period: oversight.grades(session, period, grade_table),
    }
    out = {"db": str(db), "period": period.as_dict(), "bare_group_by_s": round(bare, 4),
           "bare_group_by_cpu_s": round(bare_cpu, 4),
           "inspections_in_period": sum(r[1] for r in rows), "figures": {}}
    with ctx.sessions() as s:
        # what every work figure shares, built once per report: timed alone, and inside each figure below
        seconds, cpu, _ = _best(lambda: (scope.forget(s), scope.period_table(s, period)), repeat)
        out["period_table_s"], out["period_table_cpu_s"] = round(seconds, 4), round(cpu, 4)
        print(f"period table: {seconds * 1000:.0f} ms ({seconds / bare:.1f}× bare)", file=sys.stderr)
        for name, fn in figures.items():
            # each figure timed from scratch: the period table and the snapshots' outlines built again
            seconds, cpu, _ = _best(lambda: (scope.forget(s), common._OUTLINES.clear(), fn(s, period)), repeat)
            out["figures"][name] = {"seconds": round(seconds, 4), "ratio": round(seconds / bare, 1),
                                    "met": seconds <= 0.3, "cpu_s": round(cpu, 4),
                                    "cpu_ratio": round(cpu / bare_cpu, 2) if bare_cpu else None}
            print(f"{name}: {seconds * 1000:.0f} ms ({seconds / bare:.1f}× bare)", file=sys.stderr)
        months = summary.whole_months(period)
        if s.connection().dialect.name == "sqlite" and months:
            # after a change: the period's last month with records marked dirty (as a signing there does), so the
            # figure recomputes that month from the records before it reads the sets
            with ctx.engine.connect() as conn:  # the period's last month with records
                last = conn.exec_driver_sql("SELECT max(month) FROM stats_sets WHERE month BETWEEN ? AND ?",
                                            (months[0], months[-1])).scalar() or months[-1]

            def after_change():
                with ctx.engine.begin() as conn:
                    conn.exec_driver_sql("INSERT OR IGNORE INTO stats_dirty (month) VALUES (?)", (last,))
                began, began_cpu = time.perf_counter(), time.process_time()
                work.inspections_and_subjects(s, period)
                return time.perf_counter() - began, time.process_time() - began_cpu

            runs = [after_change() for _ in range(repeat)]
            seconds, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
            out["figures"]["inspections+subjects_inspected (one month dirty)"] = {
                "seconds": round(seconds, 4), "ratio": round(seconds / bare, 1), "met": seconds <= 0.3,
                "cpu_s": round(cpu, 4), "cpu_ratio": round(cpu / bare_cpu, 2) if bare_cpu else None}
            print(f"one month ({last}) dirty: {seconds * 1000:.0f} ms", file=sys.stderr)
    seconds, cpu, result = _best(lambda: (common._OUTLINES.clear(), report(ctx, period))[1], repeat)
    out["report"] = {"seconds": round(seconds, 4), "ratio": round(seconds / bare, 1), "met": seconds <= 2.0,
                     "cpu_s": round(cpu, 4),
                     "inspections": result["inspections"]["total"]}
    print(f"full report: {seconds:.2f} s ({seconds / bare:.1f}× bare)", file=sys.stderr)
    assert result["inspections"]["total"] == out["inspections_in_period"]  # the same rows as the baseline
    ctx.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.stats_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--period", default="2026")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.db, args.period, args.repeat)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        for name, f in result["figures"].items():
            print(f"{name}\t{f['seconds'] * 1000:.0f} ms\t{f['ratio']}×\t{'met' if f['met'] else 'NOT met'}"
                  f"\tCPU {f['cpu_s'] * 1000:.0f} ms ({f['cpu_ratio']}× bare's CPU)")
        r = result["report"]
        print(f"full report\t{r['seconds']:.2f} s\t{r['ratio']}×\t{'met' if r['met'] else 'NOT met'}")
        print(f"period table\t{result['period_table_s'] * 1000:.0f} ms")
        print(f"bare GROUP BY\t{result['bare_group_by_s'] * 1000:.0f} ms\t({result['inspections_in_period']} inspections)"
              f"\tCPU {result['bare_group_by_cpu_s'] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
