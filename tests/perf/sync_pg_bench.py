"""The real sync import on PostgreSQL (a hub): the bulk path (COPY) against a bare COPY of the same rows.

    python -m tests.perf.sync_pg_bench --db /tmp/perf/small.db --size 1000 [--careful] [--json] [--profile FILE]

A throw-away PostgreSQL server (tests/integration/pg.py: Debian's binaries, loopback,
``fsync=off``) holds a fresh station; the subjects the batch refers to are copied into it
from ``--db`` (a generated SQLite station, not modified). A laptop enrolled there holds
``size`` signed inspections (tests/perf/sync_bench.py builds, signs and exports them); the
station imports the package (timed, the officers' signature checks timed on their own).
Baseline: the same rows by bare psycopg ``COPY`` into a copy of the station made before the
import (``CREATE DATABASE … TEMPLATE``), one transaction. ``--careful``: also the
record-by-record path (``core.sync.apply.BULK`` off) on a third copy. Checks: rows added
equal the package's counts, no conflicts, the audit chain verifies.

Export from PostgreSQL: the station then joins a county (an SQLite file; only its enrolment
is needed) and the real ``core.sync.export_packages`` writes the station's package(s) up to
it — the laptop's records forwarded, with the subjects — timed; baseline: the same tables read
with bare psycopg (``SELECT *``), one ``json.dumps`` a row, deflated into a zip.
``--profile FILE``: the import under cProfile (top functions by cumulative and own time in
FILE, raw stats in FILE.prof; the wall time is then inflated by the profiler).
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: F401,E402  (the suite's key handling for the laptop)

import argparse
import cProfile
import io
import json
import pstats
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.perf import sync_bench  # noqa: E402
from tests.perf.bench import log  # noqa: E402


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _clone(server, url: str) -> str:
    import psycopg

    source = url.rsplit("/", 1)[1]
    name = f"{source}_{int(time.time() * 1000) % 10**8}"
    with psycopg.connect(_psycopg_url(server.url("postgres")), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return server.url(name)


def _counts(url: str, tables) -> dict[str, int]:
    import psycopg

    with psycopg.connect(_psycopg_url(url)) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def bare_copy(url: str, tables: dict[str, list[dict]]) -> float:
    """The same rows with bare psycopg COPY, one transaction."""
    import psycopg

    with psycopg.connect(_psycopg_url(url)) as conn:
        conn.execute("SELECT count(*) FROM inspections").fetchone()
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            for table, data in tables.items():
                if not data:
                    continue
                keys = list(data[0])
                with cur.copy(f'COPY "{table}" ({", ".join(keys)}) FROM STDIN') as copy:
                    for row in data:
                        copy.write_row(tuple(row[k] for k in keys))
            cur.execute("DELETE FROM signed_lock_fresh")
        conn.commit()
        return time.perf_counter() - t0


def bare_export(url: str, tables, target: Path) -> float:
    """The export done the bare way on PostgreSQL: every row of ``tables`` read with bare psycopg,
    one ``json.dumps`` a row (compact, sorted keys; dates as ISO text), deflated into a zip."""
    import psycopg

    dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                             default=lambda v: v.isoformat()).encode
    with psycopg.connect(_psycopg_url(url)) as conn:
        conn.execute("SELECT count(*) FROM inspections").fetchone()
        t0 = time.perf_counter()
        with zipfile.ZipFile(target, "w") as zf:
            for table in tables:
                cursor = conn.execute(f'SELECT * FROM "{table}"')
                names = [d.name for d in cursor.description]
                lines = [dumps({k: (None if isinstance(v, (bytes, memoryview)) else v) for k, v in zip(names, row)})
                         for row in cursor]
                zf.writestr(f"records/{table}.jsonl", "\n".join(lines) + "\n", zipfile.ZIP_DEFLATED)
        elapsed = time.perf_counter() - t0
    target.unlink()
    return elapsed


def _import(url: str, packages: list[Path], attachments: Path, *, bulk: bool,
            profile: Path | None = None) -> tuple[float, float, dict, bool]:
    from core import sync
    from core.audit import verify_chain
    from core.context import AppContext
    from core.sync import apply as sync_apply, signed

    station = AppContext.open(url, attachments_dir=attachments)
    checks = signed.check_signatures = sync_bench._Timed(signed.check_signatures)
    sync_apply.BULK = bulk
    profiler = cProfile.Profile() if profile is not None else None
    try:
        t0 = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        summaries = [sync.import_package(station, package) for package in packages]
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - t0
        chain = verify_chain(station).ok
    finally:
        sync_apply.BULK = True
        signed.check_signatures = checks.fn
        station.close()
    if profiler is not None:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(40)
        Path(profile).write_text(text.getvalue(), encoding="utf-8")
        profiler.dump_stats(f"{profile}.prof")
        log(f"profile written to {profile}")
    return elapsed, checks.seconds, sync_bench._merged(summaries), chain


def export_up(url: str, work: Path) -> tuple[float, list[Path]]:
    """The PostgreSQL station joins a county and exports everything up to it (the real path), timed."""
    from core import sync
    from core.context import AppContext

    county = AppContext.open(work / "county.db", attachments_dir=work / "att-county")
    offer = sync.add_device(county, "性能测试站", kind="station")
    county_device = county.device_id
    county.close()
    station = AppContext.open(url, attachments_dir=work / "att-a")
    try:
        assert sync.join(station, offer) == "station"
        out = work / "up"
        t0 = time.perf_counter()
        packages = sync.export_packages(station, out, max_mb=100_000, peer=county_device)
        return time.perf_counter() - t0, packages
    finally:
        station.close()


def _manifest_counts(packages: list[Path]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for package in packages:
        for table, n in json.loads(zipfile.ZipFile(package).read("manifest.json"))["counts"].items():
            counts[table] = counts.get(table, 0) + n
    return counts


def run(db: Path, size: int, *, careful: bool = False, profile: Path | None = None, export: bool = True,
        server=None) -> dict:
    """The figures as a dict; ``server``: a running ``tests.integration.pg.PgServer`` to use (the tests'),
    else a throw-away one is started and stopped."""
    from sqlalchemy import insert, select

    from core.context import AppContext
    from db.engine import make_engine
    from db.models import Subject, TemplateSnapshot
    from tests.integration import pg

    own = server is None
    if own:
        reason = pg.unavailable()
        if reason:
            raise SystemExit(reason)
        server = pg.PgServer(pg.find_bin())
        server.start()
    work = Path(tempfile.mkdtemp(prefix="sync-pg-bench."))
    result: dict = {"size": size, "engine": "postgresql"}
    try:
        url = server.create_database()
        station = AppContext.open(url, attachments_dir=work / "att-station")
        rows, _reopened = sync_bench.batch_rows(Path(db), size)
        subject_ids = sorted({r["subject_id"] for r in rows.inspections})
        source = make_engine(db)
        with source.connect() as conn:
            subjects = [dict(r._mapping) for r in conn.execute(
                select(*Subject.__table__.columns).where(Subject.id.in_(subject_ids)))]
        source.dispose()
        with station.engine.begin() as conn:
            conn.execute(insert(Subject.__table__), subjects)
        laptop, *_ = sync_bench.make_laptop(station, work, rows)
        out = work / "usb"
        out.mkdir()
        from core import sync

        t0 = time.perf_counter()
        packages = sync.export_packages(laptop, out, max_mb=100_000)  # more than one when a member would be too big
        result["laptop_export_s"] = round(time.perf_counter() - t0, 2)
        shas = sorted({r["template_sha"] for r in rows.inspections})
        with laptop.engine.connect() as conn:
            snapshots = [dict(r._mapping) for r in conn.execute(
                select(*TemplateSnapshot.__table__.columns).where(TemplateSnapshot.sha256.in_(shas)))]
        laptop.close()
        station.close()
        bare_url = _clone(server, url)
        careful_url = _clone(server, url) if careful else None
        tables = {"template_snapshots": snapshots,
                  **{t: d for t, d in sync_bench._rows_by_table(rows).items() if t != "template_snapshots"}}
        before = _counts(url, list(tables) + ["audit_log", "sync_base"])

        elapsed, checks_s, summary, chain = _import(url, packages, work / "att-a", bulk=True, profile=profile)
        after = _counts(url, list(tables) + ["audit_log", "sync_base"])
        grown = {t: after[t] - before[t] for t in after}
        log(f"PostgreSQL import_package (bulk, COPY): {elapsed:.2f} s (officer checks {checks_s:.2f} s), {summary}")
        bare = bare_copy(bare_url, tables)
        log(f"bare COPY of the same rows: {bare:.2f} s")
        records = sum(len(d) for d in tables.values())
        result.update({
            "inspections": len(rows.inspections), "records": records, "packages": len(packages),
            "package_bytes": sum(p.stat().st_size for p in packages),
            "import_s": round(elapsed, 3), "officer_checks_s": round(checks_s, 3),
            "bare_copy_s": round(bare, 3), "ratio": round(elapsed / bare, 2),
            "summary": summary, "rows_added": grown, "chain_ok": chain,
            "counts_ok": summary["conflicts"] == 0 and all(grown[t] == len(d) for t, d in tables.items()),
        })
        if export:
            export_s, up = export_up(url, work)
            sent = _manifest_counts(up)
            bare_export_s = bare_export(url, sorted(sent), work / "bare-export.zip")
            log(f"PostgreSQL export_packages up to the county: {export_s:.2f} s, {len(up)} package(s), {sent}; "
                f"bare SELECT + json + deflate {bare_export_s:.2f} s")
            result.update({"export_s": round(export_s, 3), "export_packages": len(up),
                           "export_records": sum(sent.values()), "export_counts": sent,
                           "export_bytes": sum(p.stat().st_size for p in up),
                           "bare_export_s": round(bare_export_s, 3), "export_ratio": round(export_s / bare_export_s, 2),
                           "export_counts_ok": all(sent.get(t, 0) == len(d) for t, d in tables.items()
                                                   if t != "template_snapshots")})
        if careful_url:
            slow, _checks, slow_summary, slow_chain = _import(careful_url, packages, work / "att-c", bulk=False)
            log(f"PostgreSQL import_package (record by record): {slow:.2f} s, {slow_summary}")
            result.update({"careful_import_s": round(slow, 3), "careful_chain_ok": slow_chain,
                           "careful_summary": slow_summary})
    finally:
        if own:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.sync_pg_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path, help="a generated SQLite station (read only)")
    parser.add_argument("--size", type=int, default=1000, help="inspections in the package")
    parser.add_argument("--careful", action="store_true", help="also time the record-by-record path")
    parser.add_argument("--no-export", action="store_true", help="skip the export from PostgreSQL")
    parser.add_argument("--profile", type=Path, help="profile the import (cProfile), the tables in this file")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = run(args.db, args.size, careful=args.careful, profile=args.profile, export=not args.no_export)
    print(json.dumps(r, ensure_ascii=False, indent=1) if args.json else
          f"PostgreSQL sync import {r['import_s']:.2f} s, bare COPY {r['bare_copy_s']:.2f} s, ratio {r['ratio']:.1f}×; "
          f"officer checks {r['officer_checks_s']:.2f} s; counts {'ok' if r['counts_ok'] else 'WRONG'}, "
          f"chain {'ok' if r['chain_ok'] else 'BROKEN'}"
          + (f"; export {r['export_s']:.2f} s, bare {r['bare_export_s']:.2f} s, ratio {r['export_ratio']:.1f}×"
             if "export_s" in r else "")
          + (f"; record by record {r['careful_import_s']:.2f} s" if "careful_import_s" in r else ""))
    return 0 if r["counts_ok"] and r["chain_ok"] and r.get("export_counts_ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
