"""A county hub with many stations' laptops pushing at once, over loopback HTTP.

    python -m tests.perf.hub_load_bench --engine sqlite|postgresql [--stations 20] [--laptops 2]
        [--size 30] [--hub process|thread] [--limit N] [--work DIR] [--json]

What users run: ``main.py hub`` in its own process (``--hub process``, the default) on an SQLite
file or a PostgreSQL database (a throw-away ``PgServer`` of ``tests/integration/pg.py``, or
``--db-url``). ``--hub thread`` serves the same app with uvicorn in this process; ``--limit N`` then
lowers uvicorn's ``limit_concurrency``. Either way the hub admits a few uploads at once
(``hub.service.DEFAULT_MAX_PENDING_PUSHES``) and tells the others to come back (503).

Set-up (not timed): ``make_senders`` enrols ``stations × laptops`` laptops at the hub
(``core.sync.add_device`` / ``enrol_device``), records each one's station with
``core.stats.assign_devices``, and gives each laptop ``size`` signed inspections of its own
(generated as ``tests/perf/sync_bench.py`` does: the hub's officers sign them with their own keys;
each record carries its laptop's device id, one audit entry per record), then
``core.sync.export_packages`` writes each laptop's package. Timed: every sender (one thread each)
waits at a barrier, then uploads its package with the signed request of ``core.sync.client``'s
``push`` (``HubClient.request``), retrying on 503 and on a dropped connection with a short
back-off. Reported: wall time, records/s and packages/s, p50/p95/max push latency (first attempt
to the hub's answer), retries and errors, with the load average.

Checks afterwards (``checks``, all must hold): every package applied once with no conflict; per
table, what the hub gained equals the sum of the packages (``template_snapshots``, shared by
every laptop, at most the distinct ones); every record id of every package is in the hub exactly
once; the audit log grew by one entry per record, ``core.audit.verify_chain`` is ok and no entry
has a sibling (two entries with the same ``prev_hash``: a forked chain); ``sync_conflicts`` empty.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases, as the suite opens them)

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.perf.bench import log  # noqa: E402

RETRY_STATUSES = (429, 503)  # "come back later": the hub's admission bound and uvicorn's limit_concurrency
MAX_ATTEMPTS = 60
SUBJECTS = 120
OFFICERS = 4  # the hub's inspectors who sign (each costs a password hash and a key wrap at set-up)


@dataclass
class Sender:
    """One laptop: its database, its enrolment at the hub, its station, its package."""

    station: str
    name: str
    db: Path
    device_id: str
    device_no: int
    private_key: str
    package: Path | None = None
    counts: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)  # table -> record ids in the package
    latency_s: float | None = None
    attempts: int = 0
    answer: dict | None = None
    error: str | None = None


# --- set-up ---------------------------------------------------------------------------------------
def seed_hub(hub, seed: int = 15):
    """Subjects on the hub (the county's register, as laptops pull it) and the factory that inspects them."""
    from sqlalchemy import insert

    from db.models import Subject
    from tests.perf.generate import InspectionFactory, Scale, World

    world = World(Scale(subjects=SUBJECTS, inspections=0, stations=1), seed)
    del world.stations[0].officers[OFFICERS:]
    world.build_subjects()
    with hub.engine.begin() as conn:
        conn.execute(insert(Subject.__table__), world.subject_rows)
    return world, InspectionFactory(world)


def blank_laptop(work: Path) -> Path:
    """A fresh laptop database, migrated once and copied for each laptop (enrolment gives each its identity)."""
    from core.context import AppContext

    path = work / "blank-laptop.db"
    if not path.exists():
        work.mkdir(parents=True, exist_ok=True)
        AppContext.open(path).close()
    return path


def enrol_sender(hub, work: Path, station: str, name: str) -> Sender:
    """A laptop enrolled at ``hub`` as a device of ``station``. Today a county's members are enrolled
    devices; when stations enrol at their county (levels), this is the one place that changes."""
    from core import stats, sync
    from core.context import AppContext

    data = sync.add_device(hub, name)
    db = rawdb.copy_db(blank_laptop(work), work / f"{data['device_id']}.db")
    laptop = AppContext.open(db)
    sync.enrol_device(laptop, data)
    laptop.close()
    stats.assign_devices(hub, station, [data["device_id"]])
    return Sender(station, name, db, data["device_id"], int(data["device_no"]), data["device_private_key"])


def sender_rows(world, factory, sender: Sender, size: int):
    """``size`` signed inspections made on this laptop (its device id and number block)."""
    from tests.perf.generate import Device, Rows

    rows = Rows()
    start = datetime(2027, 1, 4, 8, 0)
    device = Device(no=sender.device_no, id=sender.device_id, station=0)
    for plan in factory.plans(size, start=start, end=start + timedelta(days=200), device=device):
        factory.build(plan, rows, status="signed")
    ids = {r["id"] for r in rows.inspections}
    for rect in rows.rectifications:  # a re-inspection not in the batch happens later: still open
        if rect["reinspection_id"] is not None and rect["reinspection_id"] not in ids:
            rect.update(status="open", reinspection_id=None, closed_at=None, version=1, updated_at=rect["created_at"])
    return rows


def fill_sender(hub, sender: Sender, rows, snapshots: dict[str, dict], out: Path) -> None:
    """The rows as the laptop's own audited work (master data marked as received), exported."""
    from sqlalchemy import insert, select

    from core import sync
    from core.audit import GENESIS
    from core.context import AppContext
    from db.models import AuditEntry, Subject, SyncBase, TemplateSnapshot
    from tests.perf.sync_bench import _audit_entries, _rows_by_table

    subject_ids = sorted({r["subject_id"] for r in rows.inspections})
    with hub.engine.connect() as conn:
        subjects = [dict(r._mapping) for r in conn.execute(
            select(*Subject.__table__.columns).where(Subject.id.in_(subject_ids)))]
    laptop = AppContext.open(sender.db)
    try:
        station_device = laptop.setting(sync.S_STATION_DEVICE)
        with laptop.engine.begin() as conn:
            conn.execute(insert(Subject.__table__), subjects)
            conn.execute(insert(SyncBase.__table__), [
                {"peer_id": station_device, "table_name": "subjects", "record_id": s["id"], "version": s["version"]}
                for s in subjects])
            needed = sorted({r["template_sha"] for r in rows.inspections})
            conn.execute(insert(TemplateSnapshot.__table__).prefix_with("OR IGNORE"), [snapshots[s] for s in needed])
            for table, data in _rows_by_table(rows).items():
                if table != "template_snapshots" and data:
                    conn.execute(insert(sync.BY_TABLE[table].__table__), data)
            last = conn.execute(select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).scalar()
            conn.execute(insert(AuditEntry.__table__), _audit_entries(rows, last or GENESIS, laptop.clock()))
            conn.exec_driver_sql("DELETE FROM signed_lock_fresh")  # rows inserted by hand (see sync_bench)
        out.mkdir(parents=True, exist_ok=True)
        [sender.package] = sync.export_packages(laptop, out, max_mb=1000)
    finally:
        laptop.close()
    package = sync.read_package(hub, sender.package)
    sender.counts = dict(package.manifest["counts"])
    sender.ids = {t: [r["id"] for r in recs] for t, recs in package.records.items()
                  if recs and t != "template_snapshots"}  # snapshots are keyed by their SHA-256, shared


def make_senders(hub, work: Path, stations: int, laptops: int, size: int, *, seed: int = 15) -> list[Sender]:
    """``stations × laptops`` enrolled laptops, each with one package of ``size`` signed inspections."""
    from core.inspectors import add_inspector
    from tests.perf.generate import Rows
    from tests.perf.sync_bench import BENCH_PASSWORD, sign_as_officers

    world, factory = seed_hub(hub, seed)
    for officer in world.stations[0].officers:  # a signed inspection needs officers the hub knows
        add_inspector(hub, officer.name, officer.cert_no, password=BENCH_PASSWORD)
    senders = [enrol_sender(hub, work, f"第{s + 1:02d}所", f"第{s + 1:02d}所笔记本{k + 1}")
               for s in range(stations) for k in range(laptops)]
    batches = [sender_rows(world, factory, sender, size) for sender in senders]
    merged = Rows()  # the officers' keys are opened once for every laptop's inspections
    for rows in batches:
        merged.inspections += rows.inspections
        merged.officers += rows.officers
    sign_as_officers(hub, merged)
    by_inspection: dict[str, list] = {}
    for signature in merged.officer_signatures:
        by_inspection.setdefault(signature["inspection_id"], []).append(signature)
    snapshots = {s["sha256"]: s for rows in batches for s in rows.snapshots}
    for sender, rows in zip(senders, batches):
        rows.officer_signatures = [sig for r in rows.inspections for sig in by_inspection.get(r["id"], [])]
        rows.snapshots = []
        fill_sender(hub, sender, rows, snapshots, work / "out" / sender.device_id)
    return senders


# --- the hub --------------------------------------------------------------------------------------
class HubRunner:
    """The hub on a free loopback port: ``main.py hub`` in a process, or uvicorn in a thread."""

    def __init__(self, db: str, data_dir: Path, *, mode: str = "process", limit: int | None = None,
                 hub_options: dict | None = None):
        from tests.integration.pg import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mode = mode
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir / "hub.log"
        if mode == "process":
            if limit is not None:
                raise SystemExit("--limit needs --hub thread (main.py hub has its own limits)")
            with open(self.log_path, "wb") as out:
                self.proc = subprocess.Popen(
                    [sys.executable, str(ROOT / "main.py"), "hub", "--db", db, "--host", "127.0.0.1",
                     "--port", str(self.port), "--data-dir", str(data_dir)],
                    cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        else:
            import uvicorn

            from core.context import AppContext
            from hub.app import create_app
            from hub.server import uvicorn_config
            from hub.service import Hub

            self.ctx = AppContext.open(db, attachments_dir=data_dir / "attachments")
            self.hub = Hub(self.ctx, data_dir / "hub-outbox", **(hub_options or {}))
            config = uvicorn_config(create_app(self.hub), "127.0.0.1", self.port)
            import logging

            # the figures, not a line per request nor per 503 (counted as retries)
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
                logging.getLogger(name).setLevel(logging.ERROR)
            if limit is not None:
                config.limit_concurrency = limit
            self.server = uvicorn.Server(config)
            self.thread = threading.Thread(target=self.server.run, daemon=True)
            self.thread.start()
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.mode == "process" and self.proc.poll() is not None:
                raise RuntimeError(f"hub exited {self.proc.returncode}: {self.log_path.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the hub did not start in 60 s")

    def stop(self) -> None:
        if self.mode == "process":
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=20)
        else:
            self.server.should_exit = True
            self.thread.join(timeout=20)
            self.ctx.close()


# --- the pushes -----------------------------------------------------------------------------------
def push_one(sender: Sender, url: str, barrier: threading.Barrier, stats: dict, lock: threading.Lock) -> None:
    """Upload the sender's package as ``core.sync.client.push`` does; retry when told to come back."""
    from core.errors import InvalidInput
    from core.sync.client import API, H_NAME, HubClient, error_message

    client = HubClient(url, sender.device_id, sender.private_key)
    body = sender.package.read_bytes()
    rng = random.Random(sender.device_no)
    barrier.wait()
    began = time.perf_counter()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        sender.attempts = attempt
        try:
            resp = client.request("POST", f"{API}/packages", body, {H_NAME: sender.package.name})
        except InvalidInput:  # connection refused or dropped: the package may or may not have landed
            with lock:
                stats["retries_network"] += 1
        else:
            if resp.status == 200:
                sender.answer = resp.json()
                break
            if resp.status not in RETRY_STATUSES:
                sender.error = error_message(resp)
                break
            with lock:
                stats["retries_busy"] += 1
        time.sleep(min(1.0, 0.02 * 2 ** min(attempt, 6)) * (0.5 + rng.random()))
    else:
        sender.error = f"no answer after {MAX_ATTEMPTS} attempts"
    sender.latency_s = time.perf_counter() - began


def push_all(senders: list[Sender], url: str) -> dict:
    barrier = threading.Barrier(len(senders) + 1)
    stats = {"retries_busy": 0, "retries_network": 0}
    lock = threading.Lock()
    threads = [threading.Thread(target=push_one, args=(s, url, barrier, stats, lock), daemon=True) for s in senders]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=600)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, **stats, "stuck": sum(t.is_alive() for t in threads)}


# --- checks ---------------------------------------------------------------------------------------
def table_counts(ctx, tables) -> dict[str, int]:
    with ctx.engine.connect() as conn:
        return {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in tables}


def check(ctx, senders: list[Sender], before: dict[str, int], after: dict[str, int]) -> dict:
    """The correctness checks of the run (see the module docstring); ``ok`` when every one holds."""
    from core.audit import verify_chain
    from core.sync.spec import STATION_REFUSES

    out: dict = {}
    answers = [s.answer for s in senders if s.answer is not None]
    out["all_answered"] = len(answers) == len(senders) and not any(s.error for s in senders)
    # a package is applied once: the first answer; "already imported" only after a dropped connection
    # (the hub had imported it, the answer was lost), never on a sender's only attempt
    out["applied_once"] = all(s.answer is None or not s.answer.get("already_imported") or s.attempts > 1
                              for s in senders)
    out["conflicts"] = sum(int(a.get("conflicts", 0)) for a in answers)
    expected: dict[str, int] = {}
    for s in senders:
        for table, n in s.counts.items():
            if table not in STATION_REFUSES:
                expected[table] = expected.get(table, 0) + n
    grown = {t: after[t] - before[t] for t in after}
    shared = {t for t in expected if t == "template_snapshots"}
    out["counts_match"] = all(grown[t] == n for t, n in expected.items() if t not in shared) \
        and all(0 <= grown[t] <= n for t, n in expected.items() if t in shared)
    out["grown"] = grown
    out["expected"] = expected
    # every record id exactly once: none in two packages, each one in the hub
    missing = duplicated = 0
    with ctx.engine.connect() as conn:
        for table in expected:
            if table in shared:
                continue
            ids = [i for s in senders for i in s.ids.get(table, [])]
            duplicated += len(ids) - len(set(ids))
            for k in range(0, len(ids), 500):
                chunk = ids[k:k + 500]
                marks = ", ".join(f"'{i}'" for i in chunk)  # ids are UUIDs from our own packages
                found = conn.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE id IN ({marks})").scalar()
                missing += len(chunk) - found
        forks = conn.exec_driver_sql(
            "SELECT count(*) FROM (SELECT prev_hash FROM audit_log GROUP BY prev_hash HAVING count(*) > 1) f").scalar()
        out["sync_conflicts_rows"] = conn.exec_driver_sql("SELECT count(*) FROM sync_conflicts").scalar()
    out["ids_missing"], out["ids_duplicated"], out["audit_forks"] = missing, duplicated, forks
    audited = sum(n for t, n in expected.items() if t not in shared)
    out["audit_added"] = grown["audit_log"]
    out["audit_one_per_record"] = grown["audit_log"] == audited
    chain = verify_chain(ctx)
    out["chain_ok"], out["chain_entries"], out["chain_message"] = chain.ok, chain.entries, chain.message
    out["ok"] = bool(out["all_answered"] and out["applied_once"] and out["conflicts"] == 0 and out["counts_match"]
                     and missing == 0 and duplicated == 0 and forks == 0 and out["audit_one_per_record"]
                     and chain.ok and out["sync_conflicts_rows"] == 0)
    return out


# --- the run --------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(db: str, work: Path, *, stations: int, laptops: int, size: int, mode: str = "process",
        limit: int | None = None, engine: str = "sqlite", keep: dict | None = None) -> dict:
    """One run: set up, push, check. ``keep`` (a dict) receives the senders and the counts before."""
    from core import sync
    from core.context import AppContext

    began = time.perf_counter()
    hub = AppContext.open(db, attachments_dir=work / "hub-data" / "attachments")
    senders = make_senders(hub, work / "laptops", stations, laptops, size)
    setup_s = time.perf_counter() - began
    tables = sorted({t for s in senders for t in s.counts} - {"users"} | {"audit_log", "sync_base"})
    before = table_counts(hub, tables)
    hub.close()
    records = sum(n for s in senders for t, n in s.counts.items() if t != "users")
    log(f"{len(senders)} laptops at {stations} stations enrolled, {records:,} records in "
        f"{len(senders)} packages, set up in {setup_s:.1f} s; pushing to the hub ({mode})")
    runner = HubRunner(db, work / "hub-data", mode=mode, limit=limit)
    try:
        pushed = push_all(senders, runner.url)
    finally:
        runner.stop()
    hub = AppContext.open(db, attachments_dir=work / "hub-data" / "attachments")
    try:
        checks = check(hub, senders, before, table_counts(hub, tables))
        if keep is not None:
            keep.update(senders=senders, before=before, tables=tables)
        devices = len(sync.list_devices(hub))
    finally:
        hub.close()
    latencies = [s.latency_s for s in senders if s.latency_s is not None]
    wall = pushed["wall_s"]
    inspections = sum(s.counts.get("inspections", 0) for s in senders)
    return {
        "engine": engine, "hub": mode, "limit_concurrency": limit, "stations": stations,
        "laptops_per_station": laptops, "senders": len(senders), "devices_enrolled": devices,
        "inspections_per_package": size, "inspections": inspections, "records": records,
        "package_kb_mean": round(statistics.mean(s.package.stat().st_size for s in senders) / 1024, 1),
        "setup_s": round(setup_s, 1), "wall_s": round(wall, 3),
        "records_per_s": round(records / wall, 1), "packages_per_s": round(len(senders) / wall, 2),
        "latency_p50_s": round(percentile(latencies, 0.5), 3), "latency_p95_s": round(percentile(latencies, 0.95), 3),
        "latency_max_s": round(max(latencies), 3),
        "retries_busy": pushed["retries_busy"], "retries_network": pushed["retries_network"],
        "errors": sum(1 for s in senders if s.error), "error_messages": sorted({s.error for s in senders if s.error}),
        "stuck": pushed["stuck"], "already_imported": sum(1 for s in senders if s.answer and s.answer.get("already_imported")),
        "checks": checks, "ok": checks["ok"] and pushed["stuck"] == 0,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def lines(r: dict) -> str:
    c = r["checks"]
    return "\n".join([
        f"{r['engine']} hub ({r['hub']}{', limit_concurrency ' + str(r['limit_concurrency']) if r['limit_concurrency'] else ''}): "
        f"{r['stations']} stations × {r['laptops_per_station']} laptops = {r['senders']} senders, "
        f"{r['inspections_per_package']} inspections each ({r['records']:,} records, {r['package_kb_mean']} KB a package)",
        f"wall {r['wall_s']:.2f} s: {r['records_per_s']:,.0f} records/s, {r['packages_per_s']:.2f} packages/s; "
        f"push latency p50 {r['latency_p50_s']:.2f} s, p95 {r['latency_p95_s']:.2f} s, max {r['latency_max_s']:.2f} s",
        f"retries: {r['retries_busy']} told to come back (503), {r['retries_network']} dropped connections; "
        f"errors {r['errors']} {r['error_messages'] or ''}; already imported on a retry {r['already_imported']}",
        f"checks {'ok' if r['ok'] else 'FAILED'}: counts {'match' if c['counts_match'] else 'DIFFER'}, ids missing "
        f"{c['ids_missing']}, duplicated {c['ids_duplicated']}, conflicts {c['conflicts']}, audit +{c['audit_added']:,} "
        f"(one per record: {c['audit_one_per_record']}), forks {c['audit_forks']}, chain {c['chain_message']}",
        f"load average {r['load_average']}; set-up {r['setup_s']} s (not timed)",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.hub_load_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--db-url", help="an empty PostgreSQL database of your own (default: a throw-away server)")
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--laptops", type=int, default=2, help="laptops per station")
    parser.add_argument("--size", type=int, default=30, help="inspections per laptop's package")
    parser.add_argument("--hub", choices=("process", "thread"), default="process")
    parser.add_argument("--limit", type=int, help="uvicorn limit_concurrency (with --hub thread)")
    parser.add_argument("--work", type=Path, help="folder for the laptops and the hub (default: a temporary one, removed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if min(args.stations, args.laptops, args.size) < 1:
        parser.error("--stations, --laptops and --size must be ≥ 1")
    work = Path(tempfile.mkdtemp(prefix="hub-load-", dir=args.work))
    server = None
    try:
        if args.engine == "postgresql":
            db = args.db_url
            if db is None:
                from tests.integration import pg

                reason = pg.unavailable()
                if reason:
                    raise SystemExit(reason)
                server = pg.PgServer(pg.find_bin())
                server.start()
                db = server.create_database()
        else:
            db = str(work / "county.db")
        result = run(db, work, stations=args.stations, laptops=args.laptops, size=args.size, mode=args.hub,
                     limit=args.limit, engine=args.engine)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else lines(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
