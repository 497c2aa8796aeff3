"""What a per-month summary would buy 检查家次 / 户数 (docs/statistics.md "Fourth round"): a prototype, not the app.

    python -m tests.perf.stats_sets_bench --db /tmp/perf/city.db [--period 2026] [--repeat 3]

For every (breakdown, key, month) of the period it keeps the set of subjects inspected (the subject's
rowid; stored as a packed bitmap when dense, a sorted uint32 array when sparse) and the number of
inspections, in a temporary table of this connection — what a summary maintained at signing would
hold. The figure is then read back for whole months: 家次 = the sum of the months' counts, 户数 = the
size of the union of the months' sets (exact: a union, never an estimate). It checks that this equals
``core.stats.work.inspections_and_subjects`` for every breakdown, and times both (wall and CPU).
Building the sets is not timed (a maintained summary would not build them per call). Reads only;
nothing is written to the database file. Not collected by pytest.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: F401,E402  (encrypted or plain test databases)

import argparse
import sys
import time
from array import array
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DIMS = ("by_domain", "by_category", "by_grid", "by_kind", "by_origin", "by_month")


def _best(fn, repeat: int):
    wall = cpu = float("inf")
    value = None
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        value = fn()
        wall, cpu = min(wall, time.perf_counter() - began), min(cpu, time.process_time() - began_cpu)
    return wall, cpu, value


def _encode(members: set[int], width: int) -> bytes:
    if len(members) * 4 < width:
        return b"S" + array("I", sorted(members)).tobytes()
    return b"D" + sum(1 << i for i in members).to_bytes(width, "little")


def _from_sets(cursor, first: str, last: str) -> dict:
    dense: dict = defaultdict(int)
    sparse: dict = defaultdict(set)
    counts: dict = defaultdict(int)
    for dim, key, _month, n, blob in cursor.execute(
            "SELECT dim, key, month, n, members FROM stats_sets WHERE month BETWEEN ? AND ?", (first, last)):
        if blob[:1] == b"D":
            dense[(dim, key)] |= int.from_bytes(blob[1:], "little")
        else:
            sparse[(dim, key)].update(array("I", blob[1:]))
        counts[(dim, key)] += n
    out = {}
    for dk, n in counts.items():
        bits = dense.get(dk, 0)
        if dk in sparse and bits:
            for i in sparse[dk]:
                bits |= 1 << i
            out[dk] = (n, bits.bit_count())
        else:
            out[dk] = (n, bits.bit_count() if bits else len(sparse[dk]))
    return out


def run(db: Path, period_text: str, repeat: int) -> dict:
    from core.context import AppContext
    from core.stats import parse_period, scope, work

    period = parse_period(period_text)
    ctx = AppContext.open(db, create=False)
    with ctx.sessions() as s:
        scope.forget(s)
        scope.period_table(s, period)
        cursor = s.connection().connection.driver_connection.cursor()
        rows = cursor.execute("SELECT subject_key, by_month, " + ", ".join(DIMS) + " FROM stats_period").fetchall()
        officers = cursor.execute("SELECT t.subject_key, t.by_month, o.name FROM stats_period t "
                                  "JOIN inspection_officers o ON o.inspection_id = t.id").fetchall()
        sets: dict = defaultdict(set)
        counts: dict = defaultdict(int)
        for row in rows:
            for j, dim in enumerate(DIMS):
                key = (dim, row[2 + j] or "", row[1])
                sets[key].add(row[0])
                counts[key] += 1
        for subject, month, name in officers:
            # 家次 by inspector counts an inspection once per name (COUNT(DISTINCT) in the figure)
            key = ("by_inspector", name or "", month)
            sets[key].add(subject)
            counts[key] += 1
        width = max(max(v) for v in sets.values()) // 8 + 1
        cursor.execute("DROP TABLE IF EXISTS stats_sets")
        cursor.execute("CREATE TEMPORARY TABLE stats_sets (dim TEXT, key TEXT, month TEXT, n INTEGER, "
                       "members BLOB, PRIMARY KEY (month, dim, key))")
        cursor.executemany("INSERT INTO stats_sets VALUES (?, ?, ?, ?, ?)",
                           [(d, k, m, counts[(d, k, m)], _encode(v, width)) for (d, k, m), v in sets.items()])
        stored = cursor.execute("SELECT count(*), sum(length(members)) FROM stats_sets").fetchone()
        months = sorted({m for _d, _k, m in sets})
        got = _from_sets(cursor, months[0], months[-1])
        inspections, households = work.inspections_and_subjects(s, period)
        for dim in (*DIMS, "by_inspector"):
            assert {k: v[0] for (d, k), v in got.items() if d == dim} == inspections[dim], dim
            assert {k: v[1] for (d, k), v in got.items() if d == dim} == households[dim], dim
        print(f"sets: {stored[0]} (breakdown, key, month) sets, {stored[1] / 1e6:.1f} MB; equal to the figure",
              file=sys.stderr)
        sets_wall, sets_cpu, _ = _best(lambda: _from_sets(cursor, months[0], months[-1]), repeat)
        now_wall, now_cpu, _ = _best(lambda: (scope.forget(s), work.inspections_and_subjects(s, period)), repeat)
        cursor.execute("DROP TABLE stats_sets")
    ctx.close()
    return {"sets": stored[0], "stored_mb": round(stored[1] / 1e6, 2), "from_sets_s": round(sets_wall, 4),
            "from_sets_cpu_s": round(sets_cpu, 4), "now_s": round(now_wall, 4), "now_cpu_s": round(now_cpu, 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.stats_sets_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--period", default="2026")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    r = run(args.db, args.period, args.repeat)
    print(f"from per-month sets\t{r['from_sets_s'] * 1000:.0f} ms\tCPU {r['from_sets_cpu_s'] * 1000:.0f} ms")
    print(f"as counted now\t{r['now_s'] * 1000:.0f} ms\tCPU {r['now_cpu_s'] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
