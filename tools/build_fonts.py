"""Build the PDF fonts in ``resources/fonts/`` from freely licensed sources.

    python tools/build_fonts.py --from-debs /tmp/fonts-src      # apt-get download + extract
    python tools/build_fonts.py --noto NotoSerifCJK-Regular.ttc --fandol DIR

reportlab embeds TrueType (``glyf``) outlines only; the sources are OpenType/CFF (cubic), so
each font is subset to what the forms can print and its outlines are converted to quadratic
curves with fontTools' cu2qu:

* ``FandolFang-Regular`` (仿宋, body) and ``FandolSong-Bold`` (宋 bold, titles) — Fandol fonts,
  GPL v3 with the font exception, Debian ``texlive-lang-chinese``. GB 2312 and the symbols,
  no CJK Ext-A.
* ``NotoSerifCJKsc-Regular`` — Noto Serif CJK SC, SIL OFL 1.1, Debian ``fonts-noto-cjk``: the
  fallback, holding every character of the set below that a Fandol font lacks (CJK Ext-A, the
  rest of GBK/GB 18030's two-byte hanzi, ⑳ …).

The character set: ASCII and Latin-1/Extended-A, everything GB 2312 and GBK encode (GB 2312 ⊂ GBK; GBK's hanzi are GB 18030's
U+4E00–U+9FA5), CJK Ext-A U+3400–U+4DB5, ①–⑳ and the other regulation symbols, CJK and
full-width punctuation, and every character in ``resources/`` data and ``core/*.py``.

Needs fontTools (requirements-dev.txt); the app itself does not. Deterministic: the same
sources give the same files.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "fonts"
NOTO_TTC = "usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
FANDOL_DIR = "usr/share/texlive/texmf-dist/fonts/opentype/public/fandol"
NOTO_SC_INDEX = 2  # JP, KR, SC, TC, HK in the Debian collection

SYMBOLS = "℃℉°′″‰‱×÷±≤≥≠≈∞√∑∏∈∩∪⊥∠∶·…—–～№§※★☆○●◎□■△▲◇◆→←↑↓" \
          "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫⅰⅱⅲⅳⅴⅵⅶⅷⅸⅹ" + "".join(chr(c) for c in range(0x2460, 0x249C)) + \
          "㎎㎏㎜㎝㎞㎡㏄㏎㏑㏒㏕μΩ"


def charset() -> set[int]:
    """Every code point the shipped fonts must cover."""
    chars: set[int] = set(range(0x20, 0x7F)) | set(range(0x3400, 0x4DB6)) | set(range(0x4E00, 0x9FA6))
    chars |= set(range(0xA0, 0x180)) | set(range(0x3000, 0x3040)) | set(range(0xFF01, 0xFF5F)) | set(range(0x2010, 0x2027))
    chars |= {ord(c) for c in SYMBOLS}
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            for codec in ("gbk", "gb2312"):  # they differ at a few points (A1A4: U+00B7 / U+30FB)
                try:
                    chars.add(ord(bytes([lead, trail]).decode(codec)))
                except UnicodeDecodeError:
                    pass
    for path in [*sorted((ROOT / "resources").rglob("*.json")), *sorted((ROOT / "core").rglob("*.py"))]:
        chars |= {ord(c) for c in path.read_text(encoding="utf-8")}
    return {c for c in chars if c >= 0x20 and not 0xD800 <= c < 0xE000 and c not in (0xFEFF,)}


def _to_quadratic(font, max_err: float) -> None:
    """Replace the CFF table by glyf/loca with the same outlines as quadratic curves."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyphs.items():
        width = hmtx.metrics[name][0]
        hmtx.metrics[name] = (width, getattr(glyph, "xMin", 0) if glyph.numberOfContours else 0)
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in ("maxZones",):
        setattr(maxp, field, 1)
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    post = font["post"]
    post.formatType = 3.0  # no glyph names: reportlab does not need them
    font.sfntVersion = "\x00\x01\x00\x00"


def _rename(font, family: str, note: str) -> None:
    """A modified font gets its own name (the OFL asks it; Fandol's GPL asks a notice)."""
    name = font["name"]
    ps = family.replace(" ", "")
    for record_id, value in ((1, family), (3, f"{ps};forms-subset"), (4, family), (6, ps), (16, family)):
        name.setName(value, record_id, 3, 1, 0x409)
        name.setName(value, record_id, 1, 0, 0)
    name.setName(note, 10, 3, 1, 0x409)


def build_one(source: Path, index: int, wanted: set[int], out: Path, family: str, max_err: float) -> set[int]:
    """Subset ``source`` to ``wanted``, convert it, save it to ``out``; return its coverage."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), fontNumber=index, lazy=False)
    covered = set(font.getBestCmap()) & wanted
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(covered))
    subsetter.subset(font)
    _to_quadratic(font, max_err)
    _rename(font, family, f"Subset of {source.name} converted to TrueType outlines by tools/build_fonts.py")
    font["head"].modified = font["head"].created  # reproducible output
    font.save(str(out), reorderTables=True)
    return covered


def from_debs(workdir: Path) -> tuple[Path, Path]:
    """Fetch the Debian packages with apt and unpack them (no installation)."""
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", "fonts-noto-cjk", "texlive-lang-chinese"], cwd=workdir, check=True)
    tree = workdir / "tree"
    tree.mkdir(exist_ok=True)
    for deb in sorted(workdir.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    return tree / NOTO_TTC, tree / FANDOL_DIR


def write_caches() -> None:
    """reportlab's parsed tables of each font, so the first form need not parse them (core.typeset)."""
    sys.path.insert(0, str(ROOT))
    from core import typeset

    for name in typeset.FONT_FILES:
        print(f"{typeset.write_cache(name).name} written", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-debs", type=Path, help="download and unpack the Debian packages here")
    parser.add_argument("--noto", type=Path, help="NotoSerifCJK-Regular.ttc (or an SC .otf with --noto-index 0)")
    parser.add_argument("--noto-index", type=int, default=NOTO_SC_INDEX)
    parser.add_argument("--fandol", type=Path, help="folder with FandolFang-Regular.otf and FandolSong-Bold.otf")
    parser.add_argument("--max-err", type=float, default=1.0, help="cu2qu tolerance in font units (of 1000)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cache", action="store_true", help="only rewrite the .rlcache files (new reportlab)")
    args = parser.parse_args(argv)
    if args.cache:
        write_caches()
        return 0
    if args.from_debs:
        args.noto, args.fandol = from_debs(args.from_debs)
    if not (args.noto and args.fandol):
        parser.error("give --from-debs, or both --noto and --fandol")
    wanted = charset()
    args.out.mkdir(parents=True, exist_ok=True)
    fang = build_one(args.fandol / "FandolFang-Regular.otf", 0, wanted, args.out / "FandolFang-Regular.ttf",
                     "FandolFang Forms", args.max_err)
    song = build_one(args.fandol / "FandolSong-Bold.otf", 0, wanted, args.out / "FandolSong-Bold.ttf",
                     "FandolSong Bold Forms", args.max_err)
    rest = wanted - (fang & song)
    noto = build_one(args.noto, args.noto_index, rest, args.out / "NotoSerifCJKsc-Regular.ttf",
                     "Noto Serif CJK SC Forms", args.max_err)
    missing = wanted - fang - noto  # e.g. GBK's U+2252 ≒: none of the sources has it
    write_caches()
    for path in sorted(args.out.glob("*.ttf")):
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB", file=sys.stderr)
    print(f"{len(wanted)} characters wanted; Fang {len(fang)}, Song Bold {len(song)}, Noto {len(noto)}; "
          f"not covered: {len(missing)}", file=sys.stderr)
    if missing:
        print("not covered: " + " ".join(f"U+{c:04X}" for c in sorted(missing)[:50]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
