"""Subject search by query length (docs/performance.md "Short searches"), before and after the gram index.

    python -m tests.perf.search_bench --db /tmp/perf/city.db [--per-length 120] [--repeat 3] [--json]

Target (issue 15): p95 ≤ 30 ms for every query length, over a few hundred queries of mixed
lengths — common and rare characters, surnames, place names, rare pairs taken from the data,
credit-code fragments, strings with no match. Measured with what the GUI's subject list runs
for a search (``gui/list_filters.py``: ``count_subjects`` then the first page of
``search_subjects``), and the page alone (what ``bench``'s ``subject_search`` times).

"before" is the same code with the gram index switched off for the context
(``_has_subject_grams`` false: the LIKE walk of before migration 0019); every query's ids, in
order, and its count are checked to be the same both ways. Reads only. Not collected by
pytest; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
FIXED = ["康", "店", "药", "太原", "康宁", "仁和", "大药", "美容", "超市", "西平", "解放", "MA", "q7", "41", "9"]
NO_MATCH = ["龘", "靐", "𠀀", "Ж", "ﬀ", "龘靐", "齉齾", "ЖЖ", "qz", "~^", "不存在的店名", "龘靐齉齾", "zzzzzz"]


def queries(con: sqlite3.Connection, per_length: int, seed: int = 15) -> list[str]:
    """The same queries for the same data: fixed ones, then windows of random subjects' texts."""
    rng = random.Random(seed)
    n = con.execute("SELECT max(rowid) FROM subjects").fetchone()[0] or 0
    texts: list[str] = []
    while len(texts) < per_length * 3 and n:
        row = con.execute("SELECT name, address, credit_code FROM subjects WHERE rowid >= ? LIMIT 1",
                          (rng.randint(1, n),)).fetchone()
        texts += [t for t in row if t]
    out = {1: [q for q in FIXED + NO_MATCH if len(q) == 1] + list(rng.sample(SURNAMES, 20)),
           2: [q for q in FIXED + NO_MATCH if len(q) == 2], 3: [q for q in FIXED + NO_MATCH if len(q) >= 3]}
    for length in (1, 2, 3):
        while len(out[length]) < per_length and texts:
            text = rng.choice(texts)
            size = length if length < 3 else rng.randint(3, 6)
            if len(text) >= size:
                start = rng.randint(0, len(text) - size)
                query = text[start:start + size].strip()
                if len(query) == size:
                    out[length].append(query)
    return out[1] + out[2] + out[3]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def _length(query: str) -> str:
    return str(len(query)) if len(query) < 3 else "3+"


def run(db: Path, per_length: int, repeat: int) -> dict:
    from core.context import AppContext
    from core.subjects import count_subjects, search_subjects

    raw = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    qs = queries(raw, per_length)
    raw.close()
    ctx = AppContext.open(db, create=False)
    results: dict[str, dict] = {}
    answers: dict[str, dict[str, tuple]] = {"before": {}, "after": {}}
    for label, grams in (("before", False), ("after", True)):
        ctx.__dict__["_has_subject_grams"] = grams
        times: dict[str, dict[str, list[float]]] = {}
        for q in qs:  # warm: the first of each is the disk, not the query
            search_subjects(ctx, q, limit=200)
        for _ in range(repeat):
            for q in qs:
                t0 = time.perf_counter()
                found = count_subjects(ctx, q)
                t1 = time.perf_counter()
                page = search_subjects(ctx, q, limit=200)
                t2 = time.perf_counter()
                by = times.setdefault(_length(q), {"page": [], "gui": []})
                by["page"].append(t2 - t1)
                by["gui"].append(t2 - t0)
                answers[label][q] = (found, tuple(r.id for r in page))
        results[label] = {length: {kind: {"p50_ms": round(percentile(v, 50) * 1000, 1),
                                          "p95_ms": round(percentile(v, 95) * 1000, 1),
                                          "max_ms": round(max(v) * 1000, 1), "n": len(v)}
                                   for kind, v in by.items()} for length, by in sorted(times.items())}
        print(f"{label}: " + "; ".join(f"{length} chars p95 page {r['page']['p95_ms']} ms, count+page "
                                       f"{r['gui']['p95_ms']} ms" for length, r in results[label].items()),
              file=sys.stderr)
    ctx.close()
    differing = sorted(q for q in qs if answers["before"][q] != answers["after"][q])
    counts = {length: sum(1 for q in qs if _length(q) == length) for length in ("1", "2", "3+")}
    return {"db": str(db), "queries": len(qs), "by_length": counts, "repeat": repeat,
            "no_match": sum(1 for q in qs if answers["after"][q][0] == 0),
            "same_results": not differing, "differing": differing[:20], **results,
            "target_p95_ms": 30,
            "met": all(r["gui"]["p95_ms"] <= 30 for r in results["after"].values())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--per-length", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    out = run(args.db, args.per_length, args.repeat)
    print(json.dumps(out, ensure_ascii=False, indent=None if args.json else 2))
    return 0 if out["same_results"] else 1


if __name__ == "__main__":
    sys.exit(main())
