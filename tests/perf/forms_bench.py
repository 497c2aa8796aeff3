"""First printed form in a fresh process, and the font costs behind it.

    python -m tests.perf.forms_bench [--runs 7] [--against /path/to/other/checkout]

Makes a demo station in a temporary folder, then starts a fresh ``python -c`` per run that
loads a signed inspection with failed items (not timed) and times ``render_pdf`` of its
现场检查笔录 — reportlab and qrcode imports, font loading and layout included. Prints each
run, then min/median; target ≤ 150 ms (DESIGN.md: first form). Also times the fonts: parsing
each shipped TTF with reportlab against loading it from its ``.rlcache``. ``--against``
runs another checkout's code (e.g. ``git archive`` of the commit before) in turns with this
one on the same demo database, so that both see the same machine load.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from core.context import AppContext
from core.inspections import list_inspections, load_inspection
ctx = AppContext.open({db!r})
one = [r for r in list_inspections(ctx) if r.status == "signed" and r.failed][-1]
record = load_inspection(ctx, one.id)
organ = ctx.setting("organ_name")
t0 = time.perf_counter()
from core.printing import render_pdf
pdf = render_pdf(record, {form!r}, organ=organ)
print((time.perf_counter() - t0) * 1000, len(pdf))
"""

_FONTS = """
import sys, time
sys.path.insert(0, {root!r})
import reportlab.pdfbase.ttfonts as tt
from core import typeset
for name in typeset.FONT_FILES:
    path = typeset.font_path(name)
    t0 = time.perf_counter(); tt.TTFont(name, str(path)); parsed = time.perf_counter() - t0
    t0 = time.perf_counter(); typeset._make_font(name, path); cached = time.perf_counter() - t0
    print(name, round(parsed * 1000, 1), round(cached * 1000, 1))
"""


def _demo(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from core.context import AppContext
    from core.demo import create_demo

    db = folder / "demo.db"
    create_demo(AppContext.open(db))
    return db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", type=Path, help="another checkout to time in turns with this one")
    args = parser.parse_args(argv)
    roots = {"this": ROOT, **({"against": args.against.resolve()} if args.against else {})}
    with tempfile.TemporaryDirectory() as tmp:
        db = _demo(Path(tmp))
        for form in ("record", "checklist", "rectification"):
            times: dict[str, list[float]] = {key: [] for key in roots}
            for _ in range(args.runs):
                for key, root in roots.items():
                    out = subprocess.run([sys.executable, "-c", _CHILD.format(root=str(root), db=str(db), form=form)],
                                         check=True, capture_output=True, text=True).stdout.split()
                    times[key].append(float(out[0]))
            for key, runs in times.items():
                print(f"first {form:<14} {key:<8} runs {[round(t) for t in runs]} ms; min {min(runs):.0f} ms, "
                      f"median {statistics.median(runs):.0f} ms (target ≤ 150 ms)")
    out = subprocess.run([sys.executable, "-c", _FONTS.format(root=str(ROOT))], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        name, parsed, cached = line.split()
        print(f"font {name:<16} parse {parsed} ms, from .rlcache {cached} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
