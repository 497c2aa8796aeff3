"""A smaller ICU data library for the Linux build: Qt Core's ``libicudata.so.73`` (31 MB) without
the locale data of the languages the app never shows (called by pyinstaller.spec).

Kept: everything structural (normalisation, properties, character names, converters,
time-zone rules, likely subtags...) and the locale data of root, English and Chinese
(zh, zh_Hans, zh_CN, zh_Hant...). Dropped: the other ~800 locales' names, currencies, units,
zones, collations, number spellings, the transliterators and ICU's break iterators (Qt uses
none of them: its QLocale has its own CLDR tables and it finds text boundaries itself;
QCollator, the time-zone names and all 233 codecs keep working for Chinese and English).
About 31 → 9 MB.

Needs ICU's ``icupkg`` and ``genccode`` (Debian: icu-devtools) and binutils' ``ld``; without
them, or if ICU refuses the trimmed package (an item still needed), the build keeps the full
library and says so. Linux only (Qt on Windows uses the system's ICU).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

KEEP_LOCALE = re.compile(r"^(root|en|en_001|en_US|en_GB|zh|zh_.*|yue|yue_.*)\.res$")  # zh_Hant_HK needs yue
LOCALE_TREES = ("coll", "curr", "lang", "region", "unit", "zone", "rbnf")
# top-level .res files that are tables, not locales
TABLES = {"pool.res", "res_index.res", "supplementalData.res", "likelySubtags.res", "metaZones.res",
          "timezoneTypes.res", "windowsZones.res", "zoneinfo64.res", "keyTypeData.res", "numberingSystems.res",
          "plurals.res", "dayPeriods.res", "genderList.res", "grammaticalFeatures.res", "currencyNumericCodes.res",
          "icuver.res", "icustd.res", "units.res", "langInfo.res", "pluralRanges.res"}
LOCALE_NAME = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]*)*\.res$")


def removable(items: list[str]) -> list[str]:
    """The package items (``dir/name``) to drop."""
    out = []
    for item in items:
        parts = item.split("/")
        name = parts[-1]
        if parts[0] in ("translit", "brkitr"):  # Qt breaks text itself (QTextBoundaryFinder, QTextLayout)
            out.append(item)
        elif len(parts) == 2 and parts[0] in LOCALE_TREES:
            if name.endswith(".res") and not KEEP_LOCALE.match(name) and name not in TABLES:
                out.append(item)
        elif len(parts) == 1 and LOCALE_NAME.match(name) and not KEEP_LOCALE.match(name) and name not in TABLES:
            out.append(item)
    return out


def _symbol(library: Path) -> tuple[str, int, int]:
    """(entry point, file offset, size) of the data symbol ``icudtNN_dat``."""
    symbols = subprocess.run(["readelf", "-sW", str(library)], capture_output=True, text=True, check=True).stdout
    match = re.search(r":\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+OBJECT\s+GLOBAL\s+\w+\s+\d+\s+(icudt\d+)_dat", symbols)
    if match is None:
        raise ValueError("no icudt*_dat symbol")
    value, size, entry = int(match.group(1), 16), int(match.group(2), 0), match.group(3)
    sections = subprocess.run(["readelf", "-SW", str(library)], capture_output=True, text=True, check=True).stdout
    for line in sections.splitlines():
        fields = line.split("]")[-1].split()
        if len(fields) > 4 and fields[0] == ".rodata":
            address, offset = int(fields[2], 16), int(fields[3], 16)
            return entry, value - address + offset, size
    raise ValueError("no .rodata section")


def trim(library: Path, work: Path) -> Path | None:
    """The trimmed copy of ``library`` in ``work``; None (keep the full one) when it cannot be made."""
    tools = ("icupkg", "genccode", "ld", "readelf")
    if any(shutil.which(t) is None for t in tools):
        print(f"trim_icu: {', '.join(t for t in tools if shutil.which(t) is None)} missing: the full ICU data stays")
        return None
    work.mkdir(parents=True, exist_ok=True)
    try:
        entry, offset, size = _symbol(library)
        with open(library, "rb") as fh:
            fh.seek(offset)
            data = fh.read(size)
        if data[12:16] != b"CmnD":  # the data header: size, magic, then the format "CmnD"
            raise ValueError("not an ICU common data package")
        package = work / f"{entry}l.dat"
        package.write_bytes(data)
        items = subprocess.run(["icupkg", "-l", str(package)], capture_output=True, text=True,
                               check=True).stdout.split()
        drop = work / "remove.txt"
        drop.write_text("\n".join(removable(items)) + "\n", encoding="utf-8")
        out_dir = work / "out"
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir()
        subprocess.run(["icupkg", "-r", str(drop), str(package), str(out_dir / package.name)], check=True,
                       capture_output=True, text=True)
        subprocess.run(["genccode", "-o", "-m", str(library), "-e", entry, "-d", str(out_dir),
                        str(out_dir / package.name)], check=True, capture_output=True, text=True)
        result = work / library.name
        subprocess.run(["ld", "-shared", "-soname", library.name, "-o", str(result),
                        str(out_dir / f"{entry}l_dat.o")], check=True, capture_output=True, text=True)
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        print(f"trim_icu: kept the full ICU data ({str(detail).strip()[:300]})")
        return None
    print(f"trim_icu: {library.name} {library.stat().st_size >> 20} → {result.stat().st_size >> 20} MiB "
          f"({len(items)} items, {len(removable(items))} dropped)")
    return result
