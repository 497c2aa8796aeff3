"""Measure the real sync import (``core.sync.import_package``) of a package of N signed inspections.

    python -m tests.perf.sync_bench --db /tmp/perf/station.db --size 10000 [--json] [--profile FILE]

Nothing is written to ``--db``: the benchmark works on three copies of it next to it (one for
the sync import, two for the bare-sqlite3 baselines), removed afterwards. Steps:

1. copy the station database; the batch's officers are put on its list of inspectors (a signed
   inspection is accepted only from known officers) and ``core.sync.add_device`` registers a laptop on the copy;
2. a fresh laptop database (``AppContext.open``) is enrolled with ``core.sync.enrol_device``;
   the subjects the batch refers to and the station's template snapshots are copied into it
   and marked in ``sync_base`` as received from the station (as after a first
   "pull master data"), so they do not travel back;
3. ``tests.perf.bench.import_batch_rows`` builds ``size`` signed inspections (officers, item
   results, signatures with PNGs, rectification orders) for those subjects; they are
   inserted into the laptop with one audit entry per record (actor = the first officer,
   an unbroken hash chain), so that ``core.sync.export_packages`` finds them as local
   changes and writes the package itself — the format is the app's, signature and all;
4. ``core.sync.import_package`` on the station copy is timed (wall time, records/s), then
   the same rows are inserted with bare sqlite3 ``executemany`` into the second copy
   (the baseline for the DESIGN.md "within 3×" ratio), and into a third one with an audit entry
   and a ``sync_base`` row each, made beforehand (the floor of one audit entry per record);
5. checks: row counts grew by exactly the package's counts, no conflicts,
   ``core.audit.verify_chain`` is ok on the station copy, and a second import of the same
   package reports ``already_imported``.

``--profile FILE`` runs the timed import under cProfile and writes to FILE the top 15
functions by cumulative time, then by own time, then the app's own functions (raw stats in
FILE.prof); the wall time is then inflated by the profiler (~4-5× here). Progress goes to
stderr; the figures to stdout (``--json``: one JSON object).
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import argparse
import cProfile
import io
import json
import pstats
import shutil
import sqlite3
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.perf.bench import _sql_value, app_pragmas, import_batch_rows, log  # noqa: E402

TARGET_S = 5.0  # DESIGN.md "Targets": a batch of 10,000 inspections in ≤ 5 s
TARGET_RATIO = 3.0  # … and within 3× a bare SQLite bulk insert of the same rows
# the tables the generated batch fills, parents first (as core.sync applies them)
BATCH_TABLES = ("template_snapshots", "inspections", "inspection_officers", "item_results", "signatures",
                "officer_signatures", "rectifications")
BENCH_PASSWORD = "bench-officer-1"  # the batch's officers' password: it opens their signing keys


def _copy(db: Path, target: Path) -> None:
    _remove(target)
    rawdb.copy_db(db, target)


def _remove(path: Path) -> None:
    for extra in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{extra}").unlink(missing_ok=True)


def _counts(db: Path, tables) -> dict[str, int]:
    con = rawdb.connect(db)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        con.close()


def _rows_by_table(rows) -> dict[str, list[dict]]:
    return {"template_snapshots": rows.snapshots, "inspections": rows.inspections,
            "inspection_officers": rows.officers, "item_results": rows.results,
            "signatures": rows.signatures, "officer_signatures": getattr(rows, "officer_signatures", []),
            "rectifications": rows.rectifications}


def sign_as_officers(station, rows) -> None:
    """Each signed inspection of the batch signed by its officers' own keys (core.officer_keys),
    as the laptop does at signing: one key unwrap per officer, one Ed25519 signature each."""
    import json as json_

    from sqlalchemy import select

    from core.keywrap import unwrap_with_password
    from core.officer_keys import _aad, signing_message
    from core.signing import sign
    from db.models import OfficerKey, new_uuid

    with station.sessions() as s:
        keys = {k.cert_no: k for k in s.scalars(select(OfficerKey).where(OfficerKey.revoked_at.is_(None)))}
        opened = {cert: (k.user_id, k.id, unwrap_with_password(json_.loads(k.wrapped_key), BENCH_PASSWORD,
                                                               aad=_aad(k.user_id, k.id)).hex())
                  for cert, k in keys.items() if k.wrapped_key}
    inspections = {r["id"]: r for r in rows.inspections}
    out = []
    for officer in rows.officers:
        inspection = inspections[officer["inspection_id"]]
        user_id, key_id, private = opened[officer["cert_no"]]
        message = signing_message(inspection["content_hash"], inspection["id"], officer["position"],
                                  officer["cert_no"], user_id, key_id)
        out.append({"id": new_uuid(), "inspection_id": inspection["id"], "position": officer["position"],
                    "cert_no": officer["cert_no"], "key_id": key_id, "signature": sign(private, message).hex(),
                    "signed_at": inspection["signed_at"], "created_at": inspection["signed_at"],
                    "updated_at": inspection["signed_at"], "version": 1, "device_id": inspection["device_id"]})
    rows.officer_signatures = out


def batch_rows(station_db: Path, size: int):
    """``bench.import_batch_rows``, made self-contained: a rectification order whose
    re-inspection is not in the batch (it would happen later) is still open."""
    rows = import_batch_rows(station_db, size)
    ids = {r["id"] for r in rows.inspections}
    reopened = 0
    for rect in rows.rectifications:
        if rect["reinspection_id"] is not None and rect["reinspection_id"] not in ids:
            rect.update(status="open", reinspection_id=None, closed_at=None, version=1,
                        updated_at=rect["created_at"])
            reopened += 1
    return rows, reopened


def _audit_entries(rows, start_prev: str, at_default) -> list[dict]:
    """One 'insert' entry per record, as core.audit writes them, continuing the laptop's chain."""
    from core.audit import _dump, _plain, entry_hash

    officer_of = {}
    for officer in rows.officers:
        officer_of.setdefault(officer["inspection_id"], officer["name"])
    out, prev = [], start_prev
    for table, data in _rows_by_table(rows).items():
        if table == "template_snapshots":
            continue  # not audited (immutable content)
        for row in data:
            inspection_id = row["id"] if table == "inspections" else row["inspection_id"]
            actor = officer_of.get(inspection_id, "系统")
            at = row.get("created_at") or at_default
            after = _dump({k: _plain(v) for k, v in row.items()})
            digest = entry_hash(prev, at.isoformat(), actor, "insert", table, row["id"], "{}", after)
            out.append({"at": at, "actor": actor, "action": "insert", "table_name": table, "record_id": row["id"],
                        "before_json": "{}", "after_json": after, "prev_hash": prev, "hash": digest})
            prev = digest
    return out


def make_laptop(station, work: Path, rows):
    """An enrolled laptop holding the batch as its own (audited) work, master data marked as received."""
    from sqlalchemy import func, insert, select

    from core import sync
    from core.audit import GENESIS
    from core.context import AppContext
    from db.models import AuditEntry, Subject, SyncBase, TemplateSnapshot

    from core.inspectors import add_inspector, list_inspectors

    # the batch's officers are on the station's list: a signed inspection is accepted only
    # when its officers are active inspectors there and their own keys signed it (core/sync/signed.py)
    known = {o.cert_no for o in list_inspectors(station, active_only=False)}
    for name, cert_no in sorted({(o["name"], o["cert_no"]) for o in rows.officers}):
        if cert_no not in known:
            add_inspector(station, name, cert_no, password=BENCH_PASSWORD)
            known.add(cert_no)
    sign_as_officers(station, rows)
    enrolment = sync.add_device(station, "性能测试笔记本")
    laptop = AppContext.open(work / "laptop.db")
    sync.enrol_device(laptop, enrolment)
    subject_ids = sorted({r["subject_id"] for r in rows.inspections})
    shas = sorted({r["template_sha"] for r in rows.inspections})
    with station.engine.connect() as conn:
        subjects = [dict(r._mapping) for r in conn.execute(
            select(*Subject.__table__.columns).where(Subject.id.in_(subject_ids)))]
        snapshots = [dict(r._mapping) for r in conn.execute(
            select(*TemplateSnapshot.__table__.columns).where(TemplateSnapshot.sha256.in_(shas)))]
    have = {s["sha256"] for s in snapshots}
    snapshots += [s for s in rows.snapshots if s["sha256"] not in have]
    station_device = laptop.setting(sync.S_STATION_DEVICE)
    with laptop.engine.begin() as conn:
        conn.execute(insert(Subject.__table__), subjects)
        conn.execute(insert(SyncBase.__table__), [
            {"peer_id": station_device, "table_name": "subjects", "record_id": s["id"], "version": s["version"]}
            for s in subjects])
        conn.execute(insert(TemplateSnapshot.__table__).prefix_with("OR IGNORE"), snapshots)
        for table, data in _rows_by_table(rows).items():
            if table != "template_snapshots" and data:
                conn.execute(insert(sync.BY_TABLE[table].__table__), data)
        last = conn.execute(select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).scalar()
        audit = _audit_entries(rows, last or GENESIS, laptop.clock())
        conn.execute(insert(AuditEntry.__table__), audit)
        conn.exec_driver_sql("DELETE FROM signed_lock_fresh")  # signed rows inserted by hand: clear the lock's markers before the commit, as core.guards does
        audit_total = conn.execute(select(func.count()).select_from(AuditEntry)).scalar()
    return laptop, len(subjects), len(audit), audit_total


def bare_insert(db: Path, rows, *, bookkeeping: bool = False) -> float:
    """The same rows with bare sqlite3 executemany, one transaction, the app's pragmas.

    ``bookkeeping``: also the rows the import writes beside each record, made before the clock
    starts — an ``audit_log`` entry (its after_json the record's JSON, hashes of the real length)
    and a ``sync_base`` row: the floor of one audit entry per record, nothing computed."""
    prepared = []
    audit, bases = [], []
    for table, data in _rows_by_table(rows).items():
        if not data:
            continue
        keys = list(data[0])
        verb = "INSERT OR IGNORE" if table == "template_snapshots" else "INSERT"
        sql = f"{verb} INTO {table} ({', '.join(keys)}) VALUES ({', '.join('?' * len(keys))})"
        prepared.append((sql, [tuple(_sql_value(r[k]) for k in keys) for r in data]))
        if bookkeeping and table != "template_snapshots":
            for n, r in enumerate(data):
                after = json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
                digest = f"{n:064x}"
                audit.append(("2027-01-04 08:46:10.000000", "同步", "insert", table, r["id"], "{}", after, digest, digest))
                bases.append(("bench-peer", table, r["id"], r.get("version", 1)))
    if bookkeeping:
        prepared.append(("INSERT INTO audit_log (at, actor, action, table_name, record_id, before_json, after_json, "
                         "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", audit))
        prepared.append(("INSERT INTO sync_base (peer_id, table_name, record_id, version) VALUES (?, ?, ?, ?)", bases))
    raw = rawdb.connect(db, isolation_level=None)
    app_pragmas(raw)
    raw.execute("SELECT count(*) FROM inspections").fetchone()  # open the file before the clock starts
    t0 = time.perf_counter()
    raw.execute("BEGIN")
    for sql, values in prepared:
        raw.executemany(sql, values)
    raw.execute("DELETE FROM signed_lock_fresh")
    raw.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    raw.close()
    return elapsed


def bare_export(db: Path, tables, target: Path) -> float:
    """The export done the bare way: every row of the batch's tables read with bare sqlite3, one
    ``json.dumps`` a row (compact, sorted keys, as stored), deflated into a zip — no change
    detection, no bookkeeping, no signature."""
    raw = rawdb.connect(db)
    raw.execute("SELECT count(*) FROM inspections").fetchone()  # open the file before the clock starts
    t0 = time.perf_counter()
    with zipfile.ZipFile(target, "w") as zf:
        for table in tables:
            cursor = raw.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
            lines = [dumps({k: (None if isinstance(v, bytes) else v) for k, v in zip(names, row)}) for row in cursor]
            zf.writestr(f"records/{table}.jsonl", "\n".join(lines) + "\n", zipfile.ZIP_DEFLATED)
    elapsed = time.perf_counter() - t0
    raw.close()
    target.unlink()
    return elapsed


class _Timed:
    """Wraps a function, adding up its calls' wall time (the officers' signature checks)."""

    def __init__(self, fn):
        self.fn, self.seconds, self.calls = fn, 0.0, 0

    def __call__(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0
            self.calls += 1


def _merged(summaries) -> dict:
    """Several packages' import summaries as one: counts added, already_imported only if all were."""
    out = {"applied": 0, "unchanged": 0, "conflicts": 0, "already_imported": bool(summaries)}
    for summary in summaries:
        one = summary.as_dict()
        for key in ("applied", "unchanged", "conflicts"):
            out[key] += one[key]
        out["already_imported"] = out["already_imported"] and one["already_imported"]
    return out


def run(db: Path, size: int, *, profile: Path | None = None, baseline: bool = True,
        max_mb: float = 100_000) -> dict:
    from core import sync
    from core.audit import verify_chain
    from core.context import AppContext

    db = Path(db).resolve()
    if not db.is_file():
        raise SystemExit(f"no database at {db}: make one with python -m tests.perf.generate")
    began = time.perf_counter()
    checkpoint = rawdb.connect(db)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()
    work = Path(tempfile.mkdtemp(prefix=f"{db.stem}.sync-bench.", dir=db.parent))
    station_copy, raw_copy, all_copy = work / "station.db", work / "bare.db", work / "bare-all.db"
    result: dict = {"db": str(db), "db_bytes": db.stat().st_size, "size": size}
    try:
        t0 = time.perf_counter()
        _copy(db, station_copy)
        if baseline:
            _copy(db, raw_copy)
            _copy(db, all_copy)
        result["copy_s"] = round(time.perf_counter() - t0, 1)
        log(f"copied {db.name} ({db.stat().st_size / 1e9:.2f} GB) in {result['copy_s']} s")

        t0 = time.perf_counter()
        rows, reopened = batch_rows(station_copy, size)
        log(f"built {len(rows.inspections):,} inspections in {time.perf_counter() - t0:.1f} s "
            f"({reopened} rectification orders left open: their re-inspection is not in the batch)")

        station = AppContext.open(station_copy)
        t0 = time.perf_counter()
        laptop, n_subjects, n_audit, _ = make_laptop(station, work, rows)
        log(f"laptop enrolled and filled in {time.perf_counter() - t0:.1f} s "
            f"({n_subjects:,} subjects marked as received, {n_audit:,} audit entries)")
        out = work / "usb"
        out.mkdir()
        bare_export_s = bare_export(work / "laptop.db", [t for t in BATCH_TABLES if t != "template_snapshots"],
                                    work / "bare-export.zip") if baseline else None
        t0 = time.perf_counter()
        # one package for the whole batch up to ~20,000 inspections (the default 50 MB split is
        # reported below); above that, several (a member is at most 128 MB uncompressed): each is
        # imported in turn, in the order written
        packages = sync.export_packages(laptop, out, max_mb=max_mb)
        export_s = time.perf_counter() - t0
        laptop.close()
        counts: dict[str, int] = {}
        attachments = package_bytes = 0
        for package in packages:
            manifest = json.loads(zipfile.ZipFile(package).read("manifest.json"))
            for table, n in manifest["counts"].items():
                counts[table] = counts.get(table, 0) + n
            attachments += sum(1 for m in manifest["members"] if m.startswith("attachments/"))
            package_bytes += package.stat().st_size
        records = sum(counts.values())
        log(f"export_packages wrote {len(packages)} package(s): {package_bytes / 1e6:.1f} MB, {records:,} records "
            f"{json.dumps(counts)}, {attachments} attachments, in {export_s:.1f} s")

        tables = sorted(set(BATCH_TABLES) | set(counts))
        before = _counts(station_copy, tables + ["audit_log", "sync_base"])
        t0 = time.perf_counter()
        read_s = None
        from core.sync import signed

        checks = signed.check_signatures = _Timed(signed.check_signatures)  # timed inside the import
        if profile is not None:
            profiler = cProfile.Profile()
            profiler.enable()
        try:
            summaries = [sync.import_package(station, package) for package in packages]
        finally:
            elapsed = time.perf_counter() - t0
            signed.check_signatures = checks.fn
        if profile is not None:
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(15)
            tottime = io.StringIO()
            pstats.Stats(profiler, stream=tottime).sort_stats("tottime").print_stats(15)
            ours = io.StringIO()  # the app's own functions (core/), whatever their rank
            pstats.Stats(profiler, stream=ours).sort_stats("cumulative").print_stats(r"core/(sync|audit|inspections)\.py")
            Path(profile).write_text(text.getvalue() + "\n\n" + tottime.getvalue() + "\n\n" + ours.getvalue(),
                                     encoding="utf-8")
            profiler.dump_stats(f"{profile}.prof")
            log(f"profile written to {profile}")
        summary = _merged(summaries)
        log(f"import_package × {len(packages)}: {elapsed:.2f} s, {summary}")
        # the verification alone (zip, signature, SHA-256, JSON), on its own
        t0 = time.perf_counter()
        for package in packages:
            sync.read_package(station, package)
        read_s = time.perf_counter() - t0

        after = _counts(station_copy, tables + ["audit_log", "sync_base"])
        grown = {t: after[t] - before[t] for t in after}
        expected = dict(counts)
        expected.pop("users", None)  # the station refuses users from a laptop
        already = {"template_snapshots": counts.get("template_snapshots", 0) - grown.get("template_snapshots", 0)}
        counts_ok = all(grown[t] == n for t, n in expected.items() if t != "template_snapshots")
        counts_ok = counts_ok and grown["audit_log"] == summary["applied"]
        t0 = time.perf_counter()
        chain = verify_chain(station)
        chain_s = time.perf_counter() - t0
        again = _merged([sync.import_package(station, package) for package in packages])
        station.close()
        log(f"checks: grown {grown}; verify_chain {chain.ok} ({chain.entries:,} entries, {chain_s:.1f} s); "
            f"re-import {again}")

        bare = bare_insert(raw_copy, rows) if baseline else None
        bare_all = bare_insert(all_copy, rows, bookkeeping=True) if baseline else None
        if bare is not None:
            log(f"bare sqlite3 executemany of the same rows: {bare:.2f} s; with an audit entry and a "
                f"sync_base row each: {bare_all:.2f} s")
        batches_50mb = max(1, -(-package_bytes // (sync.DEFAULT_MAX_MB * 1024 * 1024)))
        result.update({
            "inspections": counts.get("inspections", 0),
            "records": records,
            "counts": counts,
            "attachments": attachments,
            "package_bytes": package_bytes,
            "packages": len(packages),
            "packages_at_default_50mb_about": batches_50mb,
            "export_s": round(export_s, 2),
            "bare_export_s": round(bare_export_s, 3) if bare_export_s is not None else None,
            "export_ratio": round(export_s / bare_export_s, 2) if bare_export_s else None,
            "officer_checks_s": round(checks.seconds, 3),
            "officer_checks": checks.calls,
            "import_without_officer_checks_s": round(elapsed - checks.seconds, 3),
            "import_s": round(elapsed, 3),
            "read_package_s": round(read_s, 3),
            "records_per_s": round(records / elapsed, 1),
            "inspections_per_s": round(counts.get("inspections", 0) / elapsed, 1),
            "target_s": TARGET_S * size / 10_000,
            "met": elapsed <= TARGET_S * size / 10_000,
            "bare_s": round(bare, 3) if bare is not None else None,
            "ratio": round(elapsed / bare, 2) if bare else None,
            # the floor of one audit entry and one sync_base row per record (``bare_insert``'s bookkeeping)
            "bare_with_bookkeeping_s": round(bare_all, 3) if bare_all is not None else None,
            "ratio_to_bare_with_bookkeeping": round(elapsed / bare_all, 2) if bare_all else None,
            "target_ratio": TARGET_RATIO,
            "summary": summary,
            "rows_added": grown,
            "snapshots_already_there": already["template_snapshots"],
            "counts_ok": counts_ok and summary["conflicts"] == 0,
            "audit_entries_added": grown["audit_log"],
            "chain_ok": chain.ok,
            "chain_entries": chain.entries,
            "verify_chain_s": round(chain_s, 1),
            "reimport": again,
            "reimport_ok": again["already_imported"],
            "profiled": profile is not None,
        })
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["total_s"] = round(time.perf_counter() - began, 1)
    return result


def lines(r: dict) -> str:
    out = [
        f"package: {r['inspections']:,} inspections, {r['records']:,} records, {r['attachments']} attachments, "
        f"{r['package_bytes'] / 1e6:.1f} MB in {r['packages']} package(s) "
        f"(≈{r['packages_at_default_50mb_about']} at the default 50 MB); "
        f"export {r['export_s']:.1f} s" + (f" (bare {r['bare_export_s']:.2f} s, {r['export_ratio']:.1f}×)"
                                            if r.get("bare_export_s") else ""),
        f"  officers' signature checks in the import: {r['officer_checks']:,} inspections, {r['officer_checks_s']:.2f} s; "
        f"import without them {r['import_without_officer_checks_s']:.2f} s",
        f"import_package      {r['import_s']:>9.2f} s   target ≤ {r['target_s']:g} s  "
        f"{'met' if r['met'] else 'MISSED'}{'  (under cProfile)' if r['profiled'] else ''}",
        f"  of which read_package (verify, parse) ≈ {r['read_package_s']:.2f} s",
        f"records per second  {r['records_per_s']:>9,.0f}     ({r['inspections_per_s']:,.0f} inspections/s)",
    ]
    if r["bare_s"] is not None:
        out.append(f"bare sqlite3        {r['bare_s']:>9.2f} s   ratio {r['ratio']:.1f}×  target ≤ {r['target_ratio']:g}×  "
                   f"{'met' if r['ratio'] <= r['target_ratio'] else 'MISSED'}")
        out.append(f"  the same with an audit entry and a sync_base row each {r['bare_with_bookkeeping_s']:.2f} s   "
                   f"ratio {r['ratio_to_bare_with_bookkeeping']:.1f}×")
    out.append(f"checks: counts {'ok' if r['counts_ok'] else 'WRONG'} {r['summary']}; audit entries +{r['audit_entries_added']:,}; "
               f"verify_chain {'ok' if r['chain_ok'] else 'BROKEN'} ({r['chain_entries']:,} entries, {r['verify_chain_s']} s); "
               f"re-import already_imported={r['reimport_ok']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.sync_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path, help="station database (not modified: copies are used)")
    parser.add_argument("--size", type=int, default=10_000, help="inspections in the package")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--profile", type=Path, help="profile the import; top 15 (cumulative, then own time) to this file")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare-sqlite3 copy and baseline")
    parser.add_argument("--max-mb", type=float, default=100_000,
                        help="the export's package size bound (default: no bound but the readers' limits)")
    args = parser.parse_args(argv)
    result = run(args.db, args.size, profile=args.profile, baseline=not args.no_baseline, max_mb=args.max_mb)
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else lines(result))
    ok = result["counts_ok"] and result["chain_ok"] and result["reimport_ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
