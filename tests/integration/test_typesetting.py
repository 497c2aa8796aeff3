"""Typesetting of the printed forms: glyph coverage, fallback, refusal, Chinese line breaking."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core import inspections as svc
from core import typeset
from core.errors import InvalidInput
from core.printing import print_form
from tests.integration.helpers import answer_all, sign_all

ROOT = Path(__file__).resolve().parents[2]
SYMBOLS = "℃ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ" + "".join(chr(c) for c in range(0x2460, 0x2474)) + "×±‰"
EXT_A = [chr(c) for c in range(0x3400, 0x4DB6)]
FORBIDDEN_START = "，。、；：？！》）」』】〉”’"
FORBIDDEN_END = "《（「『【〈“‘"


def gb2312() -> list[str]:
    chars = []
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.append(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def printed_strings() -> set[str]:
    """Every character of the template/rule texts and of core/printing.py's fixed strings."""
    chars: set[str] = set()
    for path in [*(ROOT / "resources" / "checklists").glob("*.json"), *(ROOT / "resources" / "rules").glob("*.json")]:
        chars |= set(path.read_text(encoding="utf-8"))
    for path in (ROOT / "core" / "printing.py", ROOT / "core" / "verification.py", ROOT / "core" / "inspections" / "records.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                chars |= set(node.value)
    return {c for c in chars if c not in "\n\r\t"}


@pytest.mark.parametrize("primary", [typeset.BODY, typeset.TITLE])
def test_shipped_fonts_have_a_glyph_for_everything_the_forms_print(primary):
    wanted = set(gb2312()) | set(EXT_A) | set(SYMBOLS) | printed_strings()
    assert len(gb2312()) == 7445 and len(EXT_A) == 6582  # GB 2312: 682 symbols + 6763 hanzi
    assert len(wanted) > 14000
    missing = sorted(c for c in wanted if typeset.font_for(c, primary) is None)
    assert missing == [], " ".join(f"{c}U+{ord(c):04X}" for c in missing[:40])


def test_fallback_splits_runs_by_font_and_refuses_what_no_font_has():
    assert typeset.has_glyph(typeset.BODY, "王") and not typeset.has_glyph(typeset.BODY, "䶮")
    assert typeset.markup("王䶮 2-8℃") == f'王<font name="{typeset.FALLBACK}">䶮</font> 2-8℃'
    assert typeset.markup("A&B<C>\n下一行") == "A&amp;B&lt;C&gt;<br/>下一行"
    with pytest.raises(InvalidInput) as caught:
        typeset.markup("药品𠀀")
    assert caught.value.message.startswith("无法打印字符“𠀀”（U+20000）：字体中没有此字")


def test_parse_cache_matches_the_fonts_and_this_reportlab():
    """If this fails after a reportlab upgrade: python tools/build_fonts.py --cache"""
    from reportlab.pdfbase.ttfonts import TTFontFace

    assert len(typeset.FONT_FILES) == 3
    for name in typeset.FONT_FILES:
        cached = typeset._cached_face(typeset.font_path(name))
        assert cached is not None, f"{name}: .rlcache missing or stale"
        parsed = TTFontFace(str(typeset.font_path(name)))
        assert cached.charToGlyph == parsed.charToGlyph and cached.charWidths == parsed.charWidths
        assert cached.glyphPos == parsed.glyphPos and cached.name == parsed.name and cached.name.ustr == parsed.name.ustr


@pytest.mark.parametrize("text, expected", [
    ("未建立记录。。", "未建立记录。"),
    ("无法提供（已拍照。）。", "无法提供（已拍照）。"),
    ("见附件；。", "见附件。"),
    ("保持原文……不变——好", "保持原文……不变——好"),
])
def test_tidy_drops_doubled_punctuation_only(text, expected):
    assert typeset.tidy(text) == expected


def test_breaks_obey_the_kinsoku_rules():
    text = list("甲乙丙丁戊，己庚（辛）壬癸“子”丑寅GB/T191卯辰2-8℃巳午。")
    widths = [1.0] * len(text)
    for width in range(3, 12):
        lines = typeset.break_points(text, widths, [float(width)])
        assert len(lines) >= 2 and lines[0][0] == 0 and lines[-1][1] == len(text)
        for (a, b), (c, _d) in zip(lines, lines[1:]):
            assert b == c and b > a
            assert text[c] not in FORBIDDEN_START, (width, "".join(text[c:]))
            assert text[b - 1] not in FORBIDDEN_END, (width, "".join(text[a:b]))
        joined = ["".join(text[a:b]) for a, b in lines]
        if width >= 8:
            assert not any(line.endswith(("GB", "GB/", "2-", "2-8")) for line in joined), joined


RARE = "王䶮"
LONG_NOTE = ("冷藏柜温度显示12℃，超出标签标示的2-8℃贮存条件（偏差±2℃以内视为正常），"
             "在售批次①②③⑳共4批、Ⅻ号货架，抽检不合格率3‰；负责人{rare}称：“温控设备已报修。”")


@pytest.fixture
def long_signed(ctx, subject, officers):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    items = svc.load_inspection(ctx, inspection_id).template.items
    failures = {item.code: "另" * n + LONG_NOTE.format(rare=RARE) + f"（第{n}项）" for n, item in enumerate(items[:18], 1)}
    assert len(failures) == 18
    failures[items[0].code] = "货架上1批次普通化妆品无备案信息，已拍照。"  # a note that ends a sentence
    answer_all(ctx, inspection_id, failures)
    svc.update_details(
        ctx, inspection_id, party_present_name=RARE,
        # lines of every length, so that breaks fall on every kind of character
        findings="\n".join(f"{n}、{'经' * n}现场查见{LONG_NOTE.format(rare=RARE)}" for n in range(1, 30)),
        party_statement="，".join(["对检查结果无异议", "冷藏柜已于当日报修", f"由{RARE}负责整改"] * 12) + "。",
    )
    svc.complete_inspection(ctx, inspection_id)
    sign_all(ctx, inspection_id)
    return svc.load_inspection(ctx, inspection_id)


def pdftotext(path: Path) -> str:
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed: .ci/run installs it"
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.parametrize("form", ["record", "checklist", "rectification"])
def test_long_inspection_prints_every_character_and_breaks_lines_by_the_rules(ctx, long_signed, tmp_path, form):
    from pypdf import PdfReader

    out = print_form(ctx, long_signed.id, form, tmp_path / f"{form}.pdf")
    pages = len(PdfReader(str(out)).pages)
    assert pages >= (3 if form != "rectification" else 1)
    text = pdftotext(out)
    assert text.count("\f") == pages
    for char in ("℃", "±", "‰", "①", "⑳", "Ⅻ", "䶮"):
        assert char in text, char
    assert "　" not in text.replace("\u3000\u3000", "")  # no blank where a glyph was dropped
    assert RARE in text.replace("\n", "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert len(lines) > 40
    bad_start = [line for line in lines if line[0] in FORBIDDEN_START]
    bad_end = [line for line in lines if line[-1] in FORBIDDEN_END]
    assert bad_start == [] and bad_end == []
    assert "。）。" not in text and "。。" not in text
    headers = {"record": ["序号", "检查项目", "不符合情况", "违反的规定", "法定代表人（负责人）"],
               "checklist": ["检查项目", "序号", "检查内容", "符合", "不符合", "不适用", "说明"],
               "rectification": []}[form]
    for header in headers:  # each header cell on one line, not "序/号", "不符/合"
        assert header in lines, header


def test_no_orphan_heading_at_a_page_foot(ctx, long_signed, tmp_path):
    out = print_form(ctx, long_signed.id, "record", tmp_path / "r.pdf")
    for page in pdftotext(out).split("\f"):
        body = [line.strip() for line in page.splitlines() if line.strip() and "签名" not in line
                and not re.match(r"第 \d+ 页", line)]
        if body:
            assert body[-1] not in ("告知事项", "现场情况", "当事人陈述", "当事人确认"), body[-3:]


@pytest.mark.parametrize("fields", [{"party_statement": "当事人𠀀某"},  # a paragraph
                                    {"party_refused": True, "witness_name": "当事人𠀀某"}])  # the footer
def test_unprintable_character_is_refused_and_no_file_is_written(ctx, subject, officers, tmp_path, fields):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {"B2": "无备案"})
    svc.update_details(ctx, inspection_id, **fields)
    out = tmp_path / "r.pdf"
    with pytest.raises(InvalidInput) as caught:
        print_form(ctx, inspection_id, "record", out)
    assert "无法打印字符“𠀀”（U+20000）：字体中没有此字" in caught.value.message
    assert not out.exists() and list(tmp_path.glob("r.pdf*")) == []


def test_the_build_script_asks_for_every_character_the_coverage_test_checks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_fonts", ROOT / "tools" / "build_fonts.py")
    build_fonts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_fonts)
    wanted = {ord(c) for c in set(gb2312()) | set(EXT_A) | set(SYMBOLS) | printed_strings()}
    asked = build_fonts.charset()
    assert len(asked) > 28000
    assert sorted(wanted - asked) == []
