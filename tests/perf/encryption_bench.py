"""The database encrypted at rest vs plain, in one run: autosave, search, the inspection list,
the first form, sync import, and the start-up key unwrap (issue 16's targets: ≤ 1.25× the plain
figure each; the unwrap ≤ 150 ms).

    python -m tests.perf.encryption_bench [--dir /tmp/perf-enc] [--quick]

It generates a station-scale database with ``tests.perf.generate`` (plain), makes an encrypted
copy of it (sqlcipher_export, a service-key wrap), and runs the groups of ``tests.perf.bench``
on both. Prints one line per figure and the ratio; nothing is asserted on time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _encrypted_copy(plain: Path, target: Path) -> None:
    from core import dbkeys, keywrap
    from db import cipher

    for suffix in ("", "-wal", "-shm", ".keys"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    key = os.urandom(32)
    cipher.export_encrypted(plain, target, key)
    sidecar = dbkeys.Sidecar(db_id=str(__import__("uuid").uuid4()))
    sidecar.service = keywrap.wrap_with_key(key, dbkeys.service_key(), aad=dbkeys.aad(sidecar.db_id, "service"))
    dbkeys.write(target, sidecar)


def _groups(db: Path, quick: bool) -> dict[str, tuple[float, str]]:
    from core.context import AppContext
    from tests.perf import bench

    figures = []
    ctx = AppContext.open(db)
    try:
        for fn in (lambda: bench.bench_search(ctx, db, reps=1 if quick else 3),
                   lambda: bench.bench_list(ctx, reps=2 if quick else 3),
                   lambda: bench.bench_autosave(ctx, db, saves=10 if quick else 30),
                   lambda: bench.bench_pdf(ctx, forms=3 if quick else 10)):
            try:
                figures += fn()
            except Exception as exc:  # one broken group must not lose the others
                print(f"  group failed on {db.name}: {exc!r}", file=sys.stderr)
    finally:
        ctx.close()
    try:
        figures += bench.bench_import(db, size=200 if quick else 1000)
    except Exception as exc:
        print(f"  import failed on {db.name}: {exc!r}", file=sys.stderr)
    return {f.name: (f.value, f.unit) for f in figures}


def unwrap_ms(runs: int = 7) -> float:
    from core import keywrap

    wrapped = keywrap.wrap_with_password(os.urandom(32), "a-password-1", aad=b"bench")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        keywrap.unwrap_with_password(wrapped, "a-password-1", aad=b"bench")
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "perf-enc")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("YXJC_SERVICE_KEY_FILE"):
        key_file = args.dir / "service.key"
        if not key_file.exists():
            key_file.write_bytes(os.urandom(32))
        os.environ["YXJC_SERVICE_KEY_FILE"] = str(key_file)
    os.environ.setdefault("YXJC_KEY_DIR", str(args.dir / "keys"))
    from tests.perf.generate import SCALES, generate

    plain = args.dir / "plain.db"
    if not plain.exists():
        saved = os.environ.pop("YXJC_SERVICE_KEY_FILE")
        try:
            generate(plain, SCALES["small"], 2026, log=lambda text: print(text, file=sys.stderr, flush=True))
        finally:
            os.environ["YXJC_SERVICE_KEY_FILE"] = saved
    encrypted = args.dir / "encrypted.db"
    _encrypted_copy(plain, encrypted)
    results = {"plain": _groups(plain, args.quick), "encrypted": _groups(encrypted, args.quick)}
    print(f"{'figure':40} {'plain':>10} {'encrypted':>10} {'ratio':>6}")
    for name, (value, unit) in results["plain"].items():
        other = results["encrypted"].get(name)
        if other is None:
            continue
        ratio = other[0] / value if value else float("nan")
        print(f"{name:40} {value:10.4g} {other[0]:10.4g} {ratio:6.2f}  {unit}")
    print(f"{'start-up key unwrap (scrypt n=2^15)':40} {unwrap_ms():10.1f} ms (target ≤ 150 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
