"""Measure every DESIGN.md target on a database made by ``tests.perf.generate``.

    python -m tests.perf.bench --db /tmp/perf/city.db [--json] [--quick]

One line per figure (``--json``: a JSON list of {name, value, unit, target, met,
baseline, ratio, note}). Nothing is cached between repetitions and no app code is
changed: the figures are what the app does today. Progress goes to stderr.

The benchmark writes to the database it measures: the autosave figure starts one draft
inspection (and deletes it afterwards: its document number stays used, as in the app).
The sync figures (the real ``sync import`` and ``sync export``, tests/perf/sync_bench.py) work on two
temporary copies next to the database, removed after.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import argparse
import json
import math
import os
import sqlite3
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIGURE_KEYS = ("name", "value", "unit", "target", "met", "baseline", "ratio")
NAMES = (
    "cold_start", "cold_start_in_process", "memory_rss",
    "subject_search_p50", "subject_search_p95",
    "inspection_list_first_screen", "inspection_list_main_window",
    "autosave_p50", "autosave_p95",
    "pdf_first", "pdf_one", "pdf_batch",
    "sync_import", "sync_import_ratio", "sync_import_officer_checks", "sync_export", "sync_export_ratio",
)
GROUPS = ("cold_start", "search", "list", "autosave", "pdf", "import")


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: float | None
    met: bool | None
    baseline: float | None = None
    ratio: float | None = None
    note: str = ""

    def line(self) -> str:
        text = f"{self.name:<30} {self.value:>10.3f} {self.unit:<3}"
        if self.target is not None:
            text += f"  target ≤ {self.target:g} {self.unit}  {'met' if self.met else 'MISSED'}"
        if self.baseline is not None:
            text += f"  baseline {self.baseline:.3f} {self.unit}"
        if self.ratio is not None:
            text += f"  ratio {self.ratio:.1f}×"
        if self.note:
            text += f"  ({self.note})"
        return text


def figure(name, value, unit, target, *, baseline=None, note="") -> Figure:
    value = round(value, 3)
    ratio = round(value / baseline, 2) if baseline else None
    baseline = round(baseline, 3) if baseline is not None else None
    met = None if target is None else bool(value <= target)
    return Figure(name, value, unit, target, met, baseline, ratio, note)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def app_pragmas(con: sqlite3.Connection) -> None:
    """The pragmas db.engine sets on every connection, for the bare-sqlite3 baselines."""
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
        con.execute(f"PRAGMA {pragma}")


# --- cold start -----------------------------------------------------------------------

CHILD = r"""
import time
_t0 = time.perf_counter()
import json, resource, sys
root, db = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
marks = {}
def mark(name):
    marks[name] = round(time.perf_counter() - _t0, 4)
from gui.app import setup_application
from core.context import AppContext
from gui.main_window import MainWindow
mark("imports")
app = setup_application([sys.argv[0]])
mark("qapplication")
ctx = AppContext.open(db)
mark("open_database")
window = MainWindow(ctx)
mark("main_window")
window.show()
app.processEvents()
mark("shown")
elapsed = time.perf_counter() - _t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"elapsed": elapsed, "marks": marks, "max_rss_mb": rss}), flush=True)
window.close()
ctx.close()
"""


def cold_start_once(db: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ROOT), str(db)], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    ready = time.perf_counter() - began
    _out, err = proc.communicate(timeout=600)
    total = time.perf_counter() - began
    if not line.strip():
        raise RuntimeError(f"cold-start child failed (exit {proc.returncode}): {err.strip()[-2000:]}")
    result = json.loads(line)
    result.update(ready=ready, total=total)
    return result


def bench_cold_start(db: Path, runs: int) -> list[Figure]:
    results = []
    for n in range(runs):
        result = cold_start_once(db)
        log(f"  cold start {n + 1}/{runs}: ready after {result['ready']:.2f} s, marks {result['marks']}, "
            f"max RSS {result['max_rss_mb']:.0f} MB")
        results.append(result)
    results.sort(key=lambda r: r["ready"])
    median = results[len(results) // 2]
    marks = median["marks"]
    phases, last = [], 0.0
    for name, at in marks.items():
        phases.append(f"{name} {at - last:.2f}")
        last = at
    return [
        figure("cold_start", median["ready"], "s", 1.0,
               note=f"spawn → window shown, median of {runs}; process exit after {median['total']:.2f} s"),
        figure("cold_start_in_process", median["elapsed"], "s", 1.0, note="phases (s): " + ", ".join(phases)),
        figure("memory_rss", median["max_rss_mb"], "MB", 300, note="max RSS of the cold-start process"),
    ]


# --- subject search -------------------------------------------------------------------

FIXED_QUERIES = [
    # name fragments: category words, brands (2–3 characters, as people type them)
    "化妆品", "大药房", "医疗器械", "美容", "养老院", "超市", "佳人", "康宁", "仁和", "张仲景", "好邻居",
    # address fragments
    "解放路", "文明大道", "西平县", "驿城区中华路", "3号楼", "世纪广场", "健康路18号",
    # credit-code fragments
    "411702", "91411721", "92411", "MA4", "q7x",
    # nothing matches: the worst case, a full scan
    "不存在的店名",
]


def search_queries(con: sqlite3.Connection) -> list[str]:
    """The fixed queries plus a few taken from the data at fixed positions (same data, same queries)."""
    queries = list(FIXED_QUERIES)
    n = con.execute("SELECT count(*) FROM subjects WHERE credit_code IS NOT NULL").fetchone()[0]
    if n:
        code = con.execute("SELECT credit_code FROM subjects WHERE credit_code IS NOT NULL "
                           "ORDER BY credit_code LIMIT 1 OFFSET ?", (n // 3,)).fetchone()[0]
        queries += [code, code[-6:]]
    n = con.execute("SELECT count(*) FROM subjects").fetchone()[0]
    if n:
        queries.append(con.execute("SELECT name FROM subjects ORDER BY name LIMIT 1 OFFSET ?", (n // 2,)).fetchone()[0])
    return queries


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def bench_search(ctx, db: Path, reps: int) -> list[Figure]:
    from core.subjects import search_subjects

    raw = rawdb.connect(db)
    app_pragmas(raw)
    queries = search_queries(raw)
    times, base, hits = [], [], {}
    for _ in range(reps):
        for q in queries:
            t0 = time.perf_counter()
            rows = search_subjects(ctx, q, limit=200)  # the main window's SEARCH_LIMIT
            times.append(time.perf_counter() - t0)
            hits[q] = len(rows)
            t0 = time.perf_counter()
            raw.execute(
                "SELECT * FROM subjects WHERE name LIKE ? ESCAPE '\\' OR address LIKE ? ESCAPE '\\' "
                "OR credit_code LIKE ? ESCAPE '\\'", (_like(q), _like(q), _like(q.upper())),
            ).fetchall()
            base.append(time.perf_counter() - t0)
    raw.close()
    slowest = sorted(zip(times, [q for _ in range(reps) for q in queries]), reverse=True)[:3]
    log(f"  search: {len(queries)} queries × {reps}; slowest: " + ", ".join(f"{q!r} {t * 1000:.0f} ms" for t, q in slowest))
    note = f"{len(queries)} queries × {reps}, limit 200; baseline: bare LIKE scan, all matches"
    return [
        figure("subject_search_p50", percentile(times, 50) * 1000, "ms", 30, baseline=percentile(base, 50) * 1000, note=note),
        figure("subject_search_p95", percentile(times, 95) * 1000, "ms", 30, baseline=percentile(base, 95) * 1000, note=note),
    ]


# --- inspection list ------------------------------------------------------------------

def bench_list(ctx, reps: int) -> list[Figure]:
    from core.inspections import list_inspections

    figures = []
    for name, limit in (("inspection_list_first_screen", 50), ("inspection_list_main_window", 500)):
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            rows = list_inspections(ctx, limit=limit)
            times.append(time.perf_counter() - t0)
        log(f"  list_inspections(limit={limit}): {[round(t * 1000) for t in times]} ms, {len(rows)} rows")
        figures.append(figure(name, statistics.median(times) * 1000, "ms", 100,
                              note=f"list_inspections(limit={limit}), median of {reps}"
                                   + ("; the main window asks for 500" if limit == 50 else "")))
    return figures


# --- autosave -------------------------------------------------------------------------

def bench_autosave(ctx, db: Path, saves: int) -> list[Figure]:
    from sqlalchemy import select

    from core.inspections import OfficerData, load_inspection, set_answer, start_inspection
    from db.models import Inspection, Subject

    with ctx.sessions() as s:
        subject_id = s.scalar(select(Subject.id).where(Subject.category == "cosmetics_operator")
                              .order_by(Subject.name).limit(1))
    officers = [OfficerData("王建国", "41170021001"), OfficerData("李秀英", "41170021002")]
    inspection_id = start_inspection(ctx, subject_id, "cosmetics-531", officers)
    try:
        items = [i.code for i in load_inspection(ctx, inspection_id).template.items]
        results = ("pass", "fail", "na")
        times = []
        for k in range(saves):
            t0 = time.perf_counter()
            set_answer(ctx, inspection_id, items[k % len(items)], results[k % 3])
            times.append(time.perf_counter() - t0)
        # baseline: the same write with bare sqlite3 (read the status, upsert the answer, bump the version)
        raw = rawdb.connect(db, isolation_level=None)
        app_pragmas(raw)
        device_id = ctx.device_id
        base = []
        for k in range(saves):
            code, now = items[k % len(items)], datetime.now().isoformat(" ")
            t0 = time.perf_counter()
            raw.execute("BEGIN")
            raw.execute("SELECT i.status, t.json FROM inspections i JOIN template_snapshots t ON t.sha256 = i.template_sha WHERE i.id = ?", (inspection_id,)).fetchone()
            raw.execute(
                "INSERT INTO item_results (id, inspection_id, item_code, result, note, created_at, updated_at, version, device_id) "
                "VALUES (lower(hex(randomblob(16))), ?, ?, ?, '', ?, ?, 1, ?) "
                "ON CONFLICT (inspection_id, item_code) DO UPDATE SET result = excluded.result, "
                "updated_at = excluded.updated_at, version = item_results.version + 1",
                (inspection_id, code, results[(k + 1) % 3], now, now, device_id),
            )
            raw.execute("UPDATE inspections SET version = version + 1, updated_at = ? WHERE id = ?", (now, inspection_id))
            raw.execute("COMMIT")
            base.append(time.perf_counter() - t0)
        raw.close()
    finally:
        with ctx.transaction() as s:
            s.delete(s.get(Inspection, inspection_id))
    log(f"  autosave: {saves} saves, p50 {percentile(times, 50) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")
    note = f"set_answer on a draft, {saves} saves; baseline: bare sqlite3 upsert + version bump"
    return [
        figure("autosave_p50", percentile(times, 50) * 1000, "ms", 20, baseline=percentile(base, 50) * 1000, note=note),
        figure("autosave_p95", percentile(times, 95) * 1000, "ms", 20, baseline=percentile(base, 95) * 1000, note=note),
    ]


# --- printing -------------------------------------------------------------------------

def _bare_pdf() -> bytes:
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.drawString(72, 760, "One line of text.")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def bench_pdf(ctx, forms: int) -> list[Figure]:
    from sqlalchemy import select

    from core.inspections import load_inspection
    from core.printing import render_pdf
    from db.models import Inspection, Rectification

    organ = ctx.setting("organ_name")
    with ctx.sessions() as s:
        one = s.scalar(
            select(Rectification.inspection_id).join(Inspection, Inspection.id == Rectification.inspection_id)
            .where(Inspection.status == "signed").order_by(Rectification.number).limit(1)
        )
        batch = list(s.scalars(select(Inspection.id).where(Inspection.status == "signed")
                               .order_by(Inspection.number).limit(forms)))
    record = load_inspection(ctx, one)
    t0 = time.perf_counter()
    render_pdf(record, "record", organ=organ)
    first = time.perf_counter() - t0
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        pdf = render_pdf(record, "record", organ=organ)
        warm.append(time.perf_counter() - t0)
    _bare_pdf()
    bare = []
    for _ in range(5):
        t0 = time.perf_counter()
        _bare_pdf()
        bare.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for inspection_id in batch:
        render_pdf(load_inspection(ctx, inspection_id), "record", organ=organ)
    total = time.perf_counter() - t0
    log(f"  pdf: first {first * 1000:.0f} ms, warm {[round(t * 1000) for t in warm]} ms, "
        f"{len(pdf):,} bytes; {len(batch)} forms {total:.2f} s")
    one_bare = statistics.median(bare)
    return [
        figure("pdf_first", first * 1000, "ms", 150, baseline=one_bare * 1000,
               note="first render in the process (reportlab and font loading included)"),
        figure("pdf_one", statistics.median(warm) * 1000, "ms", 150, baseline=one_bare * 1000,
               note="render_pdf of a signed record with failed items, 'record' form, median of 5; "
                    "baseline: bare one-line reportlab page"),
        figure("pdf_batch", total, "s", 10.0 * len(batch) / 100, baseline=one_bare * len(batch),
               note=f"{len(batch)} signed records, load_inspection + render_pdf each"),
    ]


# --- import ---------------------------------------------------------------------------

def import_batch_rows(db: Path, size: int, seed: int = 2026):
    """A batch of ``size`` signed inspections of subjects in ``db``, as another device would send."""
    from sqlalchemy import select

    from core.inspections import party_snapshot
    from db.engine import make_engine
    from db.models import Subject
    from tests.perf.generate import Device, InspectionFactory, Rows, SubjectInfo, World, SCALES, new_id

    engine = make_engine(db)
    with engine.connect() as conn:
        subjects = [Subject(**dict(row._mapping)) for row in conn.execute(
            select(*Subject.__table__.columns).order_by(Subject.id).limit(2000))]
    engine.dispose()
    world = World(SCALES["small"], seed)
    infos = []
    for s in subjects:
        snapshot = party_snapshot(s)
        infos.append(SubjectInfo(id=s.id, category=s.category, station=0, legal_rep=s.legal_rep,
                                 party_json=snapshot, party=json.loads(snapshot), address=s.address))
    # A station's laptops syncing: several devices (numbers are per-device blocks of 9,999 a year),
    # numbered above the generated ones so that nothing collides.
    devices = [Device(no=90 + k, id=new_id(world.rng), station=0) for k in range(max(1, math.ceil(size / 4000)))]
    factory = InspectionFactory(world)
    start = datetime(2027, 1, 4, 8, 0)
    rows = Rows()
    share = math.ceil(size / len(devices))
    for k, device in enumerate(devices):
        plans = factory.plans(min(share, size - k * share), start=start, end=start + timedelta(days=200),
                              subjects=infos, device=device)
        for plan in plans:
            factory.build(plan, rows, status="signed")
    return rows


def _sql_value(value):
    """What SQLAlchemy's SQLite dialect stores for a Python value."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def bench_import(db: Path, size: int) -> list[Figure]:
    """The real ``sync import`` and ``sync export`` of ``size`` signed inspections (tests/perf/sync_bench.py:
    a laptop enrolled at a copy of the database exports them, the copy imports the package),
    each beside its bare baseline in the same run: sqlite3 executemany of the same rows into a
    second copy (import), a bare sqlite3 read + ``json.dumps`` + deflate of the same rows (export)."""
    from tests.perf import sync_bench

    r = sync_bench.run(db, size)
    if not (r["counts_ok"] and r["chain_ok"] and r["reimport_ok"]):
        raise RuntimeError(f"sync benchmark checks failed: {r}")
    what = f"{r['inspections']:,} inspections, {r['records']:,} records, {r['package_bytes'] / 1e6:.1f} MB package"
    target = 5.0 * size / 10_000
    return [
        figure("sync_import", r["import_s"], "s", target, baseline=r["bare_s"],
               note=f"core.sync.import_package of {what}; baseline bare sqlite3 executemany of the same rows"),
        figure("sync_import_ratio", r["import_s"] / r["bare_s"], "×", 3.0, note="sync_import / bare sqlite3"),
        figure("sync_import_officer_checks", r["officer_checks_s"], "s", None,
               note=f"of sync_import: officers' Ed25519 signature checks, {r['officer_checks']:,} signed inspections"),
        figure("sync_export", r["export_s"], "s", target, baseline=r["bare_export_s"],
               note=f"core.sync.export_packages of {what}; baseline bare sqlite3 read + json.dumps + deflate"),
        figure("sync_export_ratio", r["export_s"] / r["bare_export_s"], "×", None, note="sync_export / bare export"),
    ]


# --- runner ---------------------------------------------------------------------------

def run(db: Path, *, quick: bool = False, skip: tuple[str, ...] = ()) -> tuple[list[Figure], list[str]]:
    from core.context import AppContext

    db = Path(db).resolve()
    if not db.is_file():
        raise SystemExit(f"no database at {db}: make one with python -m tests.perf.generate")
    with rawdb.connect(db) as con:
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("subjects", "inspections", "item_results")}
    con.close()
    from db.engine import head_revision

    if revision != head_revision():
        log(f"NOTE: the database is at schema {revision}, the app at {head_revision()}: "
            "the first cold start migrates it (and its time shows in that run)")
    log(f"{db}: {db.stat().st_size / 1e9:.1f} GB, schema revision {revision}, "
        + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    figures: list[Figure] = []
    failed: list[str] = []

    def measure(group: str, label: str, fn) -> None:
        if group in skip:
            return
        log(f"{label}…")
        try:
            figures.extend(fn())
        except Exception:  # one broken group must not lose the others' figures
            log(traceback.format_exc())
            failed.append(group)

    measure("cold_start", "cold start", lambda: bench_cold_start(db, runs=1 if quick else 3))
    ctx = AppContext.open(db)
    try:
        measure("search", "subject search", lambda: bench_search(ctx, db, reps=1 if quick else 5))
        measure("list", "inspection list", lambda: bench_list(ctx, reps=2 if quick else 5))
        measure("autosave", "autosave", lambda: bench_autosave(ctx, db, saves=10 if quick else 50))
        measure("pdf", "printing", lambda: bench_pdf(ctx, forms=10 if quick else 100))
    finally:
        ctx.close()
    measure("import", "sync import and export", lambda: bench_import(db, size=100 if quick else 10_000))
    if failed:
        log(f"FAILED groups: {', '.join(failed)}")
    return figures, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--json", action="store_true", help="print a JSON list of figures")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repetitions, 10 forms, a 500-inspection import (for the harness test)")
    parser.add_argument("--skip", action="append", default=[], choices=GROUPS, help="leave out a group (repeatable)")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    figures, failed = run(args.db, quick=args.quick, skip=tuple(args.skip))
    if args.json:
        print(json.dumps([asdict(f) for f in figures], ensure_ascii=False, indent=1))
    else:
        for f in figures:
            print(f.line())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
