"""Time the real ``sync export`` of a kept laptop, each run in a fresh process, in turns with the bare export.

    python -m tests.perf.export_bench make --db station.db --size 10000 --laptop DIR   # once: ≈ 1 min
    python -m tests.perf.export_bench run --laptop DIR [--turns 3] [--json]

``make`` builds the enrolled laptop of ``tests/perf/sync_bench.py`` (``size`` signed inspections as its
own audited work, master data marked as received from the station) in ``DIR`` and keeps it; ``--db``
is not modified (a copy in ``DIR`` is the station). ``run`` then, ``--turns`` times: one process
copies the kept laptop and times ``core.sync.export_packages`` on the copy (the whole export a user
runs: changed ids, missing parents, rows, lines, zip, signature, ``sync_base``, commit); another
process times ``sync_bench.bare_export`` of the same tables on a copy (read with bare sqlite3,
``json.dumps`` a row, deflate). A fresh process for each run keeps one run's memory and caches out of
the next, which an export filled in the same process (``sync_bench``) does not. Reported: each turn,
the medians and their ratio, and a digest of the packages' members — the same in every run when the
code writes the same bytes (compare two code versions by running ``run`` from each tree in turns).
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from tests.perf import sync_bench

ROOT = Path(__file__).resolve().parents[2]
LAPTOP = "laptop.db"


def make(db: Path, size: int, laptop_dir: Path) -> dict:
    from core.context import AppContext

    laptop_dir.mkdir(parents=True, exist_ok=True)
    station_db = laptop_dir / "station.db"
    sync_bench._copy(db, station_db)
    rows, _reopened = sync_bench.batch_rows(station_db, size)
    station = AppContext.open(station_db)
    try:
        laptop, subjects, entries, _total = sync_bench.make_laptop(station, laptop_dir, rows)
        laptop.close()
    finally:
        station.close()
    return {"laptop": str(laptop_dir / LAPTOP), "inspections": size, "subjects": subjects, "audit_entries": entries}


def once(laptop_dir: Path, bare: bool) -> dict:
    """One export of a copy of the kept laptop, in this process (``run`` starts one per figure)."""
    from core import sync
    from core.context import AppContext

    work = Path(tempfile.mkdtemp(prefix="export-bench.", dir=laptop_dir))
    try:
        rawdb.copy_db(laptop_dir / LAPTOP, work / LAPTOP)
        anchors, files = laptop_dir / f"{LAPTOP}.anchors", laptop_dir / "laptop-attachments"
        if anchors.exists():
            shutil.copy(anchors, work / anchors.name)
        if files.is_dir():
            shutil.copytree(files, work / files.name)
        if bare:
            tables = [t for t in sync_bench.BATCH_TABLES if t != "template_snapshots"]
            return {"bare_s": round(sync_bench.bare_export(work / LAPTOP, tables, work / "bare.zip"), 3)}
        laptop = AppContext.open(work / LAPTOP)
        try:
            t0 = time.perf_counter()
            paths = sync.export_packages(laptop, work / "out", max_mb=100_000)
            elapsed = time.perf_counter() - t0
        finally:
            laptop.close()
        digest = hashlib.sha256()
        records = 0
        for path in paths:
            with zipfile.ZipFile(path) as zf:
                records += sum(json.loads(zf.read("manifest.json"))["counts"].values())
                for name in sorted(n for n in zf.namelist() if n not in ("manifest.json", "manifest.sig")):
                    digest.update(name.encode() + b"\0" + hashlib.sha256(zf.read(name)).digest())
        return {"export_s": round(elapsed, 3), "packages": len(paths), "records": records,
                "bytes": sum(p.stat().st_size for p in paths), "members_digest": digest.hexdigest()[:16]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _child(laptop_dir: Path, bare: bool) -> dict:
    command = [sys.executable, "-m", "tests.perf.export_bench", "once", "--laptop", str(laptop_dir)]
    proc = subprocess.run(command + (["--bare"] if bare else []), cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"export_bench once failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def run(laptop_dir: Path, turns: int) -> dict:
    rows = []
    for _ in range(turns):
        rows.append({**_child(laptop_dir, bare=False), **_child(laptop_dir, bare=True)})
    export = statistics.median(r["export_s"] for r in rows)
    bare = statistics.median(r["bare_s"] for r in rows)
    return {"laptop": str(laptop_dir / LAPTOP), "turns": rows, "export_median_s": export, "bare_median_s": bare,
            "ratio": round(export / bare, 2) if bare else None, "target_s": 5.0,
            "same_bytes": len({r["members_digest"] for r in rows}) == 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.export_bench", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_make = sub.add_parser("make", help="build and keep the laptop")
    p_make.add_argument("--db", required=True, type=Path, help="station database (not modified)")
    p_make.add_argument("--size", type=int, default=10_000, help="inspections")
    p_make.add_argument("--laptop", required=True, type=Path, help="folder to keep the laptop in")
    p_run = sub.add_parser("run", help="time the export and the bare export in turns, a fresh process each")
    p_run.add_argument("--laptop", required=True, type=Path)
    p_run.add_argument("--turns", type=int, default=3)
    p_run.add_argument("--json", action="store_true")
    p_once = sub.add_parser("once", help="one run in this process (what run starts)")
    p_once.add_argument("--laptop", required=True, type=Path)
    p_once.add_argument("--bare", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "make":
        if args.size < 1:
            parser.error("--size: at least 1")
        if (args.laptop / LAPTOP).exists():
            parser.error(f"{args.laptop / LAPTOP} exists already: make builds a new one")
        print(json.dumps(make(args.db, args.size, args.laptop), ensure_ascii=False))
        return 0
    if not (args.laptop / LAPTOP).is_file():
        parser.error(f"no {LAPTOP} in {args.laptop}: run make first")
    if args.command == "once":
        print(json.dumps(once(args.laptop, args.bare)))
        return 0
    if args.turns < 1:
        parser.error("--turns: at least 1")
    result = run(args.laptop, args.turns)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for n, r in enumerate(result["turns"], 1):
            print(f"turn {n}: export {r['export_s']:.2f} s ({r['packages']} package(s), {r['records']:,} records, "
                  f"{r['bytes'] / 1e6:.1f} MB, members {r['members_digest']}), bare {r['bare_s']:.2f} s")
        print(f"median: export {result['export_median_s']:.2f} s, bare {result['bare_median_s']:.2f} s, "
              f"{result['ratio']}×; target ≤ {result['target_s']:g} s "
              f"{'met' if result['export_median_s'] <= result['target_s'] else 'MISSED'}; "
              f"same bytes every turn: {result['same_bytes']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
