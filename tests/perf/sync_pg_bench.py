"""The real sync import on PostgreSQL (a hub): the bulk path (COPY) against a bare COPY of the same rows.

    python -m tests.perf.sync_pg_bench --db /tmp/perf/small.db --size 1000 [--careful] [--json]

A throw-away PostgreSQL server (tests/integration/pg.py: Debian's binaries, loopback,
``fsync=off``) holds a fresh station; the subjects the batch refers to are copied into it
from ``--db`` (a generated SQLite station, not modified). A laptop enrolled there holds
``size`` signed inspections (tests/perf/sync_bench.py builds, signs and exports them); the
station imports the package (timed, the officers' signature checks timed on their own).
Baseline: the same rows by bare psycopg ``COPY`` into a copy of the station made before the
import (``CREATE DATABASE … TEMPLATE``), one transaction. ``--careful``: also the
record-by-record path (``core.sync.apply.BULK`` off) on a third copy. Checks: rows added
equal the package's counts, no conflicts, the audit chain verifies.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: F401,E402  (the suite's key handling for the laptop)

import argparse
import json
import shutil
import sys
import tempfile
import time
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


def _import(url: str, package: Path, attachments: Path, *, bulk: bool) -> tuple[float, float, dict, bool]:
    from core import sync
    from core.audit import verify_chain
    from core.context import AppContext
    from core.sync import apply as sync_apply, signed

    station = AppContext.open(url, attachments_dir=attachments)
    checks = signed.check_signatures = sync_bench._Timed(signed.check_signatures)
    sync_apply.BULK = bulk
    try:
        t0 = time.perf_counter()
        summary = sync.import_package(station, package)
        elapsed = time.perf_counter() - t0
        chain = verify_chain(station).ok
    finally:
        sync_apply.BULK = True
        signed.check_signatures = checks.fn
        station.close()
    return elapsed, checks.seconds, summary.as_dict(), chain


def run(db: Path, size: int, *, careful: bool = False) -> dict:
    from sqlalchemy import insert, select

    from core.context import AppContext
    from db.engine import make_engine
    from db.models import Subject, TemplateSnapshot
    from tests.integration import pg

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
        [package] = sync.export_packages(laptop, out, max_mb=100_000)
        result["export_s"] = round(time.perf_counter() - t0, 2)
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

        elapsed, checks_s, summary, chain = _import(url, package, work / "att-a", bulk=True)
        after = _counts(url, list(tables) + ["audit_log", "sync_base"])
        grown = {t: after[t] - before[t] for t in after}
        log(f"PostgreSQL import_package (bulk, COPY): {elapsed:.2f} s (officer checks {checks_s:.2f} s), {summary}")
        bare = bare_copy(bare_url, tables)
        log(f"bare COPY of the same rows: {bare:.2f} s")
        records = sum(len(d) for d in tables.values())
        result.update({
            "inspections": len(rows.inspections), "records": records, "package_bytes": package.stat().st_size,
            "import_s": round(elapsed, 3), "officer_checks_s": round(checks_s, 3),
            "bare_copy_s": round(bare, 3), "ratio": round(elapsed / bare, 2),
            "summary": summary, "rows_added": grown, "chain_ok": chain,
            "counts_ok": summary["conflicts"] == 0 and all(grown[t] == len(d) for t, d in tables.items()),
        })
        if careful_url:
            slow, _checks, slow_summary, slow_chain = _import(careful_url, package, work / "att-c", bulk=False)
            log(f"PostgreSQL import_package (record by record): {slow:.2f} s, {slow_summary}")
            result.update({"careful_import_s": round(slow, 3), "careful_chain_ok": slow_chain,
                           "careful_summary": slow_summary})
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.sync_pg_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path, help="a generated SQLite station (read only)")
    parser.add_argument("--size", type=int, default=1000, help="inspections in the package")
    parser.add_argument("--careful", action="store_true", help="also time the record-by-record path")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = run(args.db, args.size, careful=args.careful)
    print(json.dumps(r, ensure_ascii=False, indent=1) if args.json else
          f"PostgreSQL sync import {r['import_s']:.2f} s, bare COPY {r['bare_copy_s']:.2f} s, ratio {r['ratio']:.1f}×; "
          f"officer checks {r['officer_checks_s']:.2f} s; counts {'ok' if r['counts_ok'] else 'WRONG'}, "
          f"chain {'ok' if r['chain_ok'] else 'BROKEN'}"
          + (f"; record by record {r['careful_import_s']:.2f} s" if "careful_import_s" in r else ""))
    return 0 if r["counts_ok"] and r["chain_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
