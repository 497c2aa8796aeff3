"""Growth of the real sync import with the package size: 1k → 10k → 30k → 100k inspections.

    python -m tests.perf.sync_growth_bench --db /work/tmp/syncload/station.db \
        [--sizes 1000,10000,30000,100000] [--no-baseline] [--json]

Each size is set up as ``tests.perf.sync_bench.run`` does (same batch, same enrolled laptop) — then
what users run: ``core.sync.export_packages`` on the laptop writes the packages (a batch above ~20,000
inspections becomes several: a package member is at most 128 MB uncompressed, ``core.sync.package``),
and ``core.sync.import_package`` imports each of them, in order, into a fresh copy of the
station-scale database — so every size starts from the same database. The copies of that size are
removed before the next size starts (the disk holds one or two copies at a time).

Reported per size: import and export as µs per record and per inspection, the bare sqlite3
``executemany`` of the same rows (unless ``--no-baseline``) and the import's ratio to it, and the
correctness checks of the run (counts, no conflicts, ``verify_chain``, re-import refused).
Linearity: the import's µs per record at the largest size ÷ at the smallest (1.0 = linear; the
same for the export and for the bare baseline, so a growth of SQLite's own cost can be told apart
from the app's). Progress goes to stderr; figures to stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402

from tests.perf import sync_bench  # noqa: E402
from tests.perf.bench import log  # noqa: E402
from tests.support import rawdb  # noqa: E402

DEFAULT_SIZES = (1_000, 10_000, 30_000, 100_000)


def run_size(db: Path, size: int, *, baseline: bool = True, max_mb: float = 100_000) -> dict:
    """One size: export on the laptop, import every package on a fresh station copy, check, bare baseline."""
    from core import sync
    from core.audit import verify_chain
    from core.context import AppContext

    db = Path(db).resolve()
    if not db.is_file():
        raise SystemExit(f"no database at {db}: make one with python -m tests.perf.generate --scale station")
    con = rawdb.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    work = Path(tempfile.mkdtemp(prefix=f"{db.stem}.growth.", dir=db.parent))
    station_copy, raw_copy = work / "station.db", work / "bare.db"
    try:
        sync_bench._copy(db, station_copy)
        if baseline:
            sync_bench._copy(db, raw_copy)
        rows, _reopened = sync_bench.batch_rows(station_copy, size)
        station = AppContext.open(station_copy)
        t0 = time.perf_counter()
        laptop, _subjects, _audit, _total = sync_bench.make_laptop(station, work, rows)
        log(f"{size:,}: laptop filled in {time.perf_counter() - t0:.1f} s")
        out = work / "usb"
        out.mkdir()
        bare_export_s = sync_bench.bare_export(
            work / "laptop.db", [t for t in sync_bench.BATCH_TABLES if t != "template_snapshots"],
            work / "bare-export.zip") if baseline else None
        t0 = time.perf_counter()
        packages = sync.export_packages(laptop, out, max_mb=max_mb)
        export_s = time.perf_counter() - t0
        laptop.close()
        counts: dict[str, int] = {}
        package_bytes = 0
        for package in packages:
            package_bytes += package.stat().st_size
            for table, n in json.loads(zipfile.ZipFile(package).read("manifest.json"))["counts"].items():
                counts[table] = counts.get(table, 0) + n
        records = sum(counts.values())
        log(f"{size:,}: export_packages wrote {len(packages)} package(s), {package_bytes / 1e6:.1f} MB, "
            f"{records:,} records in {export_s:.1f} s")
        tables = sorted(set(sync_bench.BATCH_TABLES) | set(counts))
        before = sync_bench._counts(station_copy, tables + ["audit_log"])
        applied = conflicts = 0
        t0 = time.perf_counter()
        for package in packages:
            summary = sync.import_package(station, package)
            applied += summary.applied
            conflicts += summary.conflicts
        import_s = time.perf_counter() - t0
        log(f"{size:,}: import_package × {len(packages)}: {import_s:.1f} s, applied {applied:,}, conflicts {conflicts}")
        after = sync_bench._counts(station_copy, tables + ["audit_log"])
        grown = {t: after[t] - before[t] for t in after}
        counts_ok = all(grown[t] == n for t, n in counts.items() if t not in ("template_snapshots", "users"))
        chain = verify_chain(station)
        audit_ok = grown["audit_log"] == applied
        station.close()
        bare = sync_bench.bare_insert(raw_copy, rows) if baseline else None
        if bare is not None:
            log(f"{size:,}: bare sqlite3 executemany of the same rows: {bare:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"size": size, "inspections": counts.get("inspections", 0), "records": records, "packages": len(packages),
            "package_bytes": package_bytes, "import_s": round(import_s, 3), "export_s": round(export_s, 2),
            "bare_export_s": round(bare_export_s, 3) if bare_export_s is not None else None,
            "bare_s": round(bare, 3) if bare is not None else None,
            "ratio": round(import_s / bare, 2) if bare else None,
            "summary": {"applied": applied, "conflicts": conflicts}, "counts_ok": counts_ok and audit_ok,
            "chain_ok": chain.ok, "load_average": [round(x, 2) for x in os.getloadavg()]}


def per_size(r: dict) -> dict:
    """The figures of one size from one ``sync_bench.run`` result."""
    records, inspections = r["records"], max(r["inspections"], 1)
    out = {
        "size": r["size"], "inspections": r["inspections"], "records": records,
        "package_mb": round(r["package_bytes"] / 1e6, 1),
        "import_s": r["import_s"], "export_s": r["export_s"],
        "import_us_per_record": round(r["import_s"] * 1e6 / records, 1),
        "import_us_per_inspection": round(r["import_s"] * 1e6 / inspections, 1),
        "export_us_per_record": round(r["export_s"] * 1e6 / records, 1),
        "export_us_per_inspection": round(r["export_s"] * 1e6 / inspections, 1),
        "bare_s": r["bare_s"], "ratio": r["ratio"],
        "bare_us_per_record": round(r["bare_s"] * 1e6 / records, 1) if r["bare_s"] else None,
        "bare_export_s": r.get("bare_export_s"),
        "bare_export_us_per_record": round(r["bare_export_s"] * 1e6 / records, 1) if r.get("bare_export_s") else None,
        "export_ratio": round(r["export_s"] / r["bare_export_s"], 2) if r.get("bare_export_s") else None,
        "packages": r.get("packages", 1),
        "checks_ok": bool(r["counts_ok"] and r["chain_ok"] and r.get("reimport_ok", True)),
        "conflicts": r["summary"]["conflicts"], "load_average": r.get("load_average"),
    }
    return out


def linearity(rows: list[dict]) -> dict:
    """µs per record at the largest size ÷ at the smallest, for the import, the export and bare."""
    if len(rows) < 2:
        return {}
    first, last = min(rows, key=lambda r: r["size"]), max(rows, key=lambda r: r["size"])
    out = {"from": first["size"], "to": last["size"]}
    for key in ("import_us_per_record", "export_us_per_record", "bare_us_per_record", "bare_export_us_per_record"):
        if first.get(key) and last.get(key):
            out[key.removesuffix("_us_per_record")] = round(last[key] / first[key], 2)
    return out


def run(db: Path, sizes, *, baseline: bool = True, max_mb: float = 100_000) -> dict:
    rows = []
    for size in sizes:
        log(f"--- {size:,} inspections")
        rows.append(per_size(run_size(db, size, baseline=baseline, max_mb=max_mb)))
        log(json.dumps(rows[-1], ensure_ascii=False))
    load = os.getloadavg()
    return {"db": str(db), "sizes": rows, "linearity": linearity(rows),
            "checks_ok": bool(rows) and all(r["checks_ok"] for r in rows),
            "load_average": [round(x, 2) for x in load]}


def lines(result: dict) -> str:
    out = [f"{'inspections':>11} {'records':>10} {'MB':>6} {'import s':>9} {'µs/rec':>7} {'µs/insp':>8} "
           f"{'export s':>9} {'µs/rec':>7} {'bare µs/rec':>11} {'ratio':>6} {'bare exp µs/rec':>15}  checks"]
    for r in result["sizes"]:
        bare = f"{r['bare_us_per_record']:>11.1f}" if r["bare_us_per_record"] else f"{'—':>11}"
        ratio = f"{r['ratio']:>5.1f}×" if r["ratio"] else f"{'—':>6}"
        out.append(f"{r['inspections']:>11,} {r['records']:>10,} {r['package_mb']:>6.1f} {r['import_s']:>9.2f} "
                   f"{r['import_us_per_record']:>7.1f} {r['import_us_per_inspection']:>8.0f} {r['export_s']:>9.2f} "
                   f"{r['export_us_per_record']:>7.1f} {bare} {ratio} "
                   f"{r['bare_export_us_per_record'] or 0:>15.1f}  {'ok' if r['checks_ok'] else 'WRONG'}")
    lin = result["linearity"]
    if lin:
        parts = ", ".join(f"{k} {v:.2f}×" for k, v in lin.items() if k not in ("from", "to"))
        out.append(f"µs per record at {lin['to']:,} ÷ at {lin['from']:,} (1.0 = linear): {parts}")
    out.append(f"load average {result['load_average']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.sync_growth_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path, help="station database (not modified: copies are used)")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="inspections per package, comma-separated (default 1000,10000,30000,100000)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare-sqlite3 copy and baseline")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--max-mb", type=float, default=100_000,
                        help="the export's package size bound (default: no bound but the readers' limits)")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes: whole numbers separated by commas, not {args.sizes!r}")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes: at least one size, each ≥ 1")
    result = run(args.db, sizes, baseline=not args.no_baseline, max_mb=args.max_mb)
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else lines(result))
    return 0 if result["checks_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
