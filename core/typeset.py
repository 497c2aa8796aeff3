"""How the printed forms set text: fonts, per-glyph fallback, CJK line breaking.

The fonts (``resources/fonts``, made by ``tools/build_fonts.py``): FandolFang (仿宋) for the
body, FandolSong Bold (宋, bold) for titles, both GB 2312 without CJK Ext-A, and a Noto Serif
CJK SC subset holding every character of GBK/GB 18030's two-byte set, Ext-A and the symbols
that the Fandol fonts lack. reportlab has no glyph fallback, so :func:`markup` splits a text
into runs by font (``<font name=…>``); the fallback is registered only when a run needs it. A
character no shipped font has is refused (:class:`~core.errors.InvalidInput`) — never dropped.

reportlab's ``wordWrap="CJK"`` only keeps a line from starting with part of the closing
punctuation (it lacks ，；：？！》〉”’ …) and ignores opening brackets at a line end, so
:class:`Para` breaks lines itself (:func:`break_points`): no line starts with closing
punctuation, none ends with an opening bracket, ASCII words and numbers ("2-8℃", "GB/T
191") stay whole, "——" and "……" are not split.

Parsing a font costs reportlab 40 ms; a marshal cache of its parsed tables next to each font
(``*.rlcache``, written by ``tools/build_fonts.py --cache``) and the font file mapped rather
than read cut that to a few ms. The cache is keyed by the reportlab version, the file size and
the font's table directory; a stale or missing cache is ignored (the font is parsed).
"""
from __future__ import annotations

import hashlib
import marshal
import mmap
import re
import threading
from pathlib import Path
from xml.sax.saxutils import escape

from core.errors import InvalidInput
from core.paths import resources_dir

BODY = "FandolFang"
TITLE = "FandolSongBold"
FALLBACK = "NotoSerifSC"
FONT_FILES = {
    BODY: "FandolFang-Regular.ttf",
    TITLE: "FandolSong-Bold.ttf",
    FALLBACK: "NotoSerifCJKsc-Regular.ttf",
}
FALLBACKS = {BODY: (FALLBACK,), TITLE: (FALLBACK,), FALLBACK: ()}

# Line-breaking rules (GB/T 15834 and common Chinese typesetting practice).
CANNOT_START = frozenset(
    "，。、；：？！）》」』】〉〕］｝〗”’…—～·．％‰℃°′″"
    ",.;:?!)]}%"
    "々〻ヽヾゝゞ"
)
CANNOT_END = frozenset("（《「『【〈〔［｛〖“‘([{")
_NO_SPLIT_PAIRS = frozenset("—…")  # "——" and "……" are one mark each
_WORD = re.compile(r"[0-9A-Za-z\-_./@#&+]")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))  # zero-width: nothing to print
_SPACES = {ord("\t"): " ", ord("\r"): None, 0xA0: " "}

_lock = threading.RLock()
_coverage: dict[str, frozenset[int] | dict] = {}


# --- fonts ----------------------------------------------------------------------------------

def font_path(name: str) -> Path:
    return resources_dir() / "fonts" / FONT_FILES[name]


def cache_key(data: bytes) -> str:
    """reportlab's version, the file's size and its sfnt table directory (which holds every
    table's checksum): cheap, and any change to the font or to reportlab changes it."""
    import reportlab

    tables = int.from_bytes(data[4:6], "big") if len(data) >= 6 else 0
    directory = hashlib.sha256(data[:12 + 16 * tables]).hexdigest()
    return f"{reportlab.Version}:{len(data)}:{directory}"


def _face_state(face) -> dict:
    """The parsed tables of a reportlab face, in marshal-able form."""
    state = {}
    for key, value in face.__dict__.items():
        if key in ("_ttf_data", "_pdfScale", "filename"):
            continue
        if hasattr(value, "ustr"):  # TTFNameBytes
            value = ("__name__", bytes(value), value.ustr)
        state[key] = value
    return state


def write_cache(name: str) -> Path:
    """Write the ``.rlcache`` of one shipped font (``tools/build_fonts.py --cache``)."""
    from reportlab.pdfbase.ttfonts import TTFontFace

    path = font_path(name)
    face = TTFontFace(str(path))
    out = path.with_suffix(".rlcache")
    out.write_bytes(marshal.dumps({"key": cache_key(face._ttf_data), "state": _face_state(face)}))
    return out


def _cached_face(path: Path):
    """The face from its cache, or None when the cache is missing or stale."""
    from reportlab.pdfbase.ttfonts import TTFNameBytes, TTFontFace

    cache = path.with_suffix(".rlcache")
    with path.open("rb") as file:  # mapped, not read: a form touches only the glyphs it embeds
        data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        stored = marshal.loads(cache.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != cache_key(data):
        return None
    face = TTFontFace.__new__(TTFontFace)
    for key, value in stored["state"].items():
        if isinstance(value, tuple) and len(value) == 3 and value[0] == "__name__":
            name = TTFNameBytes(value[1])
            name.ustr = value[2]
            value = name
        face.__dict__[key] = value
    face.filename, face._ttf_data = str(path), data
    scale = 1000 / face.unitsPerEm
    face._pdfScale = (lambda x: x) if face.unitsPerEm == 1000 else (lambda x: x * scale)
    return face


def _make_font(name: str, path: Path):
    from weakref import WeakKeyDictionary

    from reportlab import rl_config
    from reportlab.pdfbase.ttfonts import TTEncoding, TTFont

    face = _cached_face(path)
    if face is None:
        return TTFont(name, str(path))
    font = TTFont.__new__(TTFont)
    font.fontName, font.face, font.encoding = name, face, TTEncoding()
    font.state = WeakKeyDictionary()
    font._asciiReadable = rl_config.ttfAsciiReadable
    font.shapable = True  # as TTFont.__init__ does (effective only with uharfbuzz)
    return font


def font(name: str = BODY) -> str:
    """Register one of the shipped fonts with reportlab (once) and return its name."""
    if name in _coverage:
        return name
    with _lock:
        if name not in _coverage:
            from reportlab.pdfbase import pdfmetrics

            made = _make_font(name, font_path(name))
            pdfmetrics.registerFont(made)
            _coverage[name] = made.face.charToGlyph
    return name


def has_glyph(name: str, char: str) -> bool:
    return ord(char) in _coverage[font(name)]


def font_for(char: str, primary: str) -> str | None:
    """The first font of ``primary`` and its fallbacks that has ``char`` (None: none has)."""
    for name in (primary, *FALLBACKS[primary]):
        if has_glyph(name, char):
            return name
    return None


def unprintable(char: str) -> InvalidInput:
    shown = char if char.isprintable() else ""
    return InvalidInput(f"无法打印字符“{shown}”（U+{ord(char):04X}）：字体中没有此字")


# --- text -----------------------------------------------------------------------------------

_DOUBLED = re.compile(r"([。，、；：])\1+")
_BEFORE_CLOSE = re.compile(r"[。；，、]+(?=[）」』】]+[。；，、：！？])")
_STOPS = re.compile(r"[，、；：]+。")


def tidy(text: str) -> str:
    """Drop punctuation that text assembly doubled: "。。", "（注。）。" → "（注）。", "；。"."""
    text = _BEFORE_CLOSE.sub("", text)
    text = _DOUBLED.sub(r"\1", text)
    return _STOPS.sub("。", text)


def clean(text: str) -> str:
    return str(text).translate(_SPACES).translate(_INVISIBLE)


def check(text: str, primary: str = BODY) -> None:
    """Raise the clear refusal if any character of ``text`` cannot be printed."""
    for char in clean(text):
        if char != "\n" and font_for(char, primary) is None:
            raise unprintable(char)


def runs(text: str, primary: str = BODY) -> list[tuple[str, str]]:
    """``text`` as (font, piece) runs; each piece is printable in its font."""
    out: list[tuple[str, str]] = []
    for char in clean(text):
        if char == "\n":
            name = out[-1][0] if out else primary
        else:
            name = font_for(char, primary)
            if name is None:
                raise unprintable(char)
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1] + char)
        else:
            out.append((name, char))
    return out


def markup(text: str, primary: str = BODY) -> str:
    """Paragraph markup for plain ``text``: escaped, newlines as <br/>, runs by font."""
    parts = []
    for name, piece in runs(tidy(clean(text)), primary):
        piece = escape(piece).replace("\n", "<br/>")
        parts.append(piece if name == primary else f'<font name="{name}">{piece}</font>')
    return "".join(parts)


def text_width(text: str, size: float, primary: str = BODY) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return sum(stringWidth(piece, name, size) for name, piece in runs(text, primary))


def draw_text(canvas, x: float, y: float, text: str, size: float, *, primary: str = BODY,
              align: str = "left") -> float:
    """Draw one line on a canvas with per-glyph fallback; returns its width."""
    pieces = runs(text, primary)
    width = text_width(text, size, primary)
    x -= {"left": 0, "centre": width / 2, "right": width}[align]
    for name, piece in pieces:
        canvas.setFont(name, size)
        canvas.drawString(x, y, piece)
        x += canvas.stringWidth(piece, name, size)
    canvas.setFont(primary, size)
    return width


# --- line breaking --------------------------------------------------------------------------

def _allowed(prev: str, cur: str, *, words: bool) -> bool:
    if cur in CANNOT_START or prev in CANNOT_END:
        return False
    if prev == cur and prev in _NO_SPLIT_PAIRS:
        return False
    return not (words and _WORD.match(prev) and _WORD.match(cur))


def break_before(chars: list[str], start: int, over: int) -> int:
    """Where the next line starts when the line from ``start`` overflows at ``chars[over]``.

    Characters are pushed to the next line (never more than half a line to keep a word or
    number whole); only when no break is allowed at all does a closing mark hang in the margin.
    """
    half = start + max(1, (over - start) // 2)
    for b in range(over, half - 1, -1):
        if _allowed(chars[b - 1], chars[b], words=True):
            return b
    for b in range(over, start, -1):
        if _allowed(chars[b - 1], chars[b], words=False):
            return b
    return over + 1 if chars[over] in CANNOT_START else over


def break_points(chars: list[str], widths: list[float], max_widths: list[float],
                 hard: set[int] = frozenset()) -> list[tuple[int, int]]:
    """(start, end) of each line; ``hard``: indexes after which a line must end."""
    from reportlab.rl_config import _FUZZ

    lines, start, used, i, n = [], 0, 0.0, 0, len(chars)
    while i < n:
        limit = max_widths[min(len(lines), len(max_widths) - 1)]
        used += widths[i]
        if i in hard:
            lines.append((start, i + 1))
            start, used, i = i + 1, 0.0, i + 1
            continue
        if used > limit + _FUZZ and i > start:
            end = min(break_before(chars, start, i), n)
            lines.append((start, end))
            start, used, i = end, 0.0, end
            continue
        i += 1
    if start < n:
        lines.append((start, n))
    return lines


def _frag_widths(frag, text: str) -> list[float]:
    """Each character's width in ``frag``'s font (reportlab's TrueType stringWidth, per char)."""
    from reportlab.pdfbase.pdfmetrics import getFont, stringWidth

    face = getattr(getFont(frag.fontName), "face", None)
    if getattr(face, "charWidths", None) is None:
        return [stringWidth(c, frag.fontName, frag.fontSize) for c in text]
    get, default, scale = face.charWidths.get, face.defaultWidth, 0.001 * frag.fontSize
    return [get(ord(c), default) * scale for c in text]


def _paragraph_class():
    from reportlab.pdfbase.pdfmetrics import getAscentDescent
    from reportlab.platypus import Paragraph
    from reportlab.platypus.paragraph import FragLine, ParaLines

    def line(frags: list, chars: list[str], widths: list[float], a: int, b: int, max_width: float,
             line_break: bool):
        """One line of chars[a:b] as reportlab's kind-1 FragLine (a word per run of one frag)."""
        words, size, ascent, descent, k = [], 0.0, 0.0, 0.0, a
        while k < b:
            frag, j = frags[k], k
            while j < b and frags[j] is frag:
                j += 1
            word = frag.clone()
            word.text = "".join(chars[k:j])
            words.append(word)
            up, down = getAscentDescent(frag.fontName, frag.fontSize)
            size, ascent, descent = max(size, frag.fontSize), max(ascent, up), min(descent, down)
            k = j
        used = sum(widths[a:b])
        return FragLine(kind=1, extraSpace=max_width - used, wordCount=1, words=words, fontSize=size,
                        ascent=ascent, descent=descent, maxWidth=max_width, currentWidth=used,
                        lineBreak=line_break)

    class Para(Paragraph):
        """A Paragraph that breaks lines by the Chinese rules above (style wordWrap="CJK")."""

        def breakLinesCJK(self, maxWidths):
            if not isinstance(maxWidths, (list, tuple)):
                maxWidths = [maxWidths]
            if hasattr(self, "blPara") and getattr(self, "_splitpara", 0):
                return self.blPara
            style = self.style
            self.height = 0
            chars: list[str] = []
            widths: list[float] = []
            frags: list = []
            hard: set[int] = set()
            for frag in self.frags:
                text = frag.text if hasattr(frag, "text") else "".join(getattr(frag, "words", []))
                text = text or ""
                pieces = list(text) or [""]
                chars += pieces
                widths += _frag_widths(frag, text) if text else [0.0]
                frags += [frag] * len(pieces)
                if hasattr(frag, "lineBreak"):
                    hard.update(range(len(chars) - len(pieces), len(chars)))
            if not chars:
                return ParaLines(kind=0, fontSize=style.fontSize, fontName=style.fontName,
                                 textColor=style.textColor, lines=[], ascent=style.fontSize,
                                 descent=-0.2 * style.fontSize)
            lines = []
            for number, (a, b) in enumerate(break_points(chars, widths, maxWidths, hard)):
                width = maxWidths[min(number, len(maxWidths) - 1)]
                lines.append(line(frags, chars, widths, a, b, width, (b - 1) in hard))
            return ParaLines(kind=1, lines=lines)

    class FitPara(Para):
        """A one-line label (a table header) that shrinks to fit its cell rather than break."""

        _min_scale = 0.6

        def wrap(self, availWidth, availHeight):
            if not hasattr(self, "_sizes"):
                self._sizes = [getattr(f, "fontSize", self.style.fontSize) for f in self.frags]
            natural = sum(sum(_frag_widths(f, f.text)) * size / f.fontSize
                          for f, size in zip(self.frags, self._sizes) if getattr(f, "text", "") and f.fontSize)
            room = availWidth - self.style.leftIndent - self.style.rightIndent
            scale = 1.0 if natural <= room or natural == 0 else max(room / natural * 0.995, self._min_scale)
            for f, size in zip(self.frags, self._sizes):
                f.fontSize = size * scale
            return super().wrap(availWidth, availHeight)

    return Para, FitPara


_classes: tuple | None = None


def paragraph(text: str, style, *, fit: bool = False):
    """A Paragraph of plain ``text`` in ``style`` (its fontName is the primary font)."""
    global _classes
    if _classes is None:
        _classes = _paragraph_class()
    return _classes[1 if fit else 0](markup(text, style.fontName), style)
