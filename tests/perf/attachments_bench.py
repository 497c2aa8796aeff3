"""Photos encrypted at rest against plain: adding a photo, reading it back, encrypting old ones.

    python -m tests.perf.attachments_bench [--photos 12] [--width 2000] [--height 1500] [--json]

Makes a station database in a temporary folder and phone-sized JPEG photos of noise (they
compress badly, so each is a few MB like a real photo). Then, in turns so that both see the
same machine load, times ``add_photo`` (read, Pillow check, SHA-256, write with fsync, one
transaction) and ``read_attachment`` (what the viewer, printing and sync export call) with
``ctx.file_key`` unset (plain) and set (AES-256-GCM), and ``encrypt_existing`` over the plain
folder (MB/s). Prints medians in ms and the encrypted/plain ratio. No figure is asserted:
they are for docs/performance.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _photos(folder: Path, count: int, width: int, height: int) -> list[Path]:
    from PIL import Image

    paths = []
    for n in range(count):
        path = folder / f"photo-{n:03d}.jpg"
        Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(path, format="JPEG", quality=85)
        paths.append(path)
    return paths


def run(photos: int, width: int, height: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from core import inspections as svc
    from core.attachments import encrypt_existing, read_attachment
    from core.context import AppContext
    from core.subjects import SubjectData, add_subject

    with tempfile.TemporaryDirectory(prefix="yxjc-att-bench-") as tmp:
        base = Path(tmp)
        sources = _photos(base, photos, width, height)
        sizes = [p.stat().st_size for p in sources]
        contexts = {}
        for mode in ("plain", "encrypted"):
            ctx = AppContext.open(base / f"{mode}.db")
            ctx.file_key = os.urandom(32) if mode == "encrypted" else None
            subject = add_subject(ctx, SubjectData(name="测试化妆品店", category="cosmetics_operator",
                                                   credit_code="91350100M000100Y43", address="测试路1号"))
            inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531",
                                                 [svc.OfficerData("王建国", "41170021001"),
                                                  svc.OfficerData("李秀英", "41170021002")])
            contexts[mode] = (ctx, inspection_id)
        add = {"plain": [], "encrypted": []}
        read = {"plain": [], "encrypted": []}
        rows = {"plain": [], "encrypted": []}
        order = [("plain", "encrypted"), ("encrypted", "plain")]
        for n, source in enumerate(sources):  # in turns, each going first every other photo
            for mode in order[n % 2]:
                ctx, inspection_id = contexts[mode]
                t0 = time.perf_counter()
                rows[mode].append(svc.add_photo(ctx, inspection_id, "A3", source))
                add[mode].append((time.perf_counter() - t0) * 1000)
        for index in range(len(sources)):
            for mode in order[index % 2]:
                ctx = contexts[mode][0]
                t0 = time.perf_counter()
                data = read_attachment(ctx, rows[mode][index].path)
                read[mode].append((time.perf_counter() - t0) * 1000)
                assert len(data) == sizes[index]
        plain_ctx = contexts["plain"][0]
        plain_ctx.file_key = os.urandom(32)  # the migration of the plain folder
        t0 = time.perf_counter()
        summary = encrypt_existing(plain_ctx)
        migrate_s = time.perf_counter() - t0
        for ctx, _id in contexts.values():
            ctx.close()
    median = statistics.median
    result = {
        "photos": photos, "mean_photo_mb": round(sum(sizes) / len(sizes) / 2**20, 2),
        "add_plain_ms": round(median(add["plain"]), 1), "add_encrypted_ms": round(median(add["encrypted"]), 1),
        "read_plain_ms": round(median(read["plain"]), 3), "read_encrypted_ms": round(median(read["encrypted"]), 3),
        "migrated": summary.encrypted, "migrate_mb_per_s": round(sum(sizes) / 2**20 / migrate_s, 1),
    }
    result["add_ratio"] = round(result["add_encrypted_ms"] / result["add_plain_ms"], 2)
    result["read_ratio"] = round(result["read_encrypted_ms"] / max(result["read_plain_ms"], 0.01), 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.attachments_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--width", type=int, default=2000)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.photos, args.width, args.height)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['photos']} photos of {result['mean_photo_mb']} MB (median of each)")
    print(f"add_photo:       plain {result['add_plain_ms']} ms, encrypted {result['add_encrypted_ms']} ms, "
          f"ratio {result['add_ratio']}")
    print(f"read_attachment: plain {result['read_plain_ms']} ms, encrypted {result['read_encrypted_ms']} ms, "
          f"ratio {result['read_ratio']}")
    print(f"encrypt_existing: {result['migrated']} files at {result['migrate_mb_per_s']} MB/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
