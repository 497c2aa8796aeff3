"""Package the one-folder build (dist/yaoxiehua-inspect/, from ``pyinstaller pyinstaller.spec``)
as a .deb for Debian-based desktops (UOS, Kylin, Debian, Ubuntu).

    python tools/build_deb.py [--dist dist] [--out dist]

writes dist/yaoxiehua-inspect_<version>_amd64.deb with dpkg-deb:

    /opt/yaoxiehua-inspect/                       the folder, as built (both programs)
    /usr/bin/yaoxiehua-inspect, …-cli             symbolic links to them
    /usr/share/applications/yaoxiehua-inspect.desktop   the menu entry
    /usr/share/icons/hicolor/256x256/apps/yaoxiehua-inspect.png
    /usr/share/doc/yaoxiehua-inspect/copyright

No maintainer scripts: dpkg's file triggers (desktop-file-utils, the icon cache) refresh
the menu, and removing the package removes every file it installed. Nothing under /opt
is written at run time; the user's data (~/.local/share/yaoxiehua-inspect) is never the
package's, so an upgrade or removal (even --purge) leaves it as it is.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "yaoxiehua-inspect"
PROGRAMS = (NAME, f"{NAME}-cli")
# What the build does not bundle and a desktop provides (pyinstaller.spec: SYSTEM_DIRS):
# glibc, libstdc++, X11/xcb, fontconfig/freetype, GLib, D-Bus, GL/EGL, CUPS for printing.
DEPENDS = ("libstdc++6, zlib1g, libbz2-1.0, liblzma5, libexpat1, libuuid1, libglib2.0-0, "
           "libdbus-1-3, libfontconfig1, libfreetype6, libx11-6, libx11-xcb1, libxcb1, libxcb-cursor0, "
           "libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render0, libxcb-render-util0, "
           "libxcb-shape0, libxcb-shm0, libxcb-sync1, libxcb-util1 | libxcb-util0, libxcb-xfixes0, libxcb-xkb1, libxkbcommon0, "
           "libxkbcommon-x11-0, libegl1, libgl1, libcups2")
COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: yaoxiehua-inspect

Files: opt/yaoxiehua-inspect/_internal/resources/fonts/*
Comment: FandolFang / FandolSong: GPL-3.0 with the font exception; Noto Serif CJK, WenQuanYi Micro Hei:
 SIL OFL 1.1 (the texts are in that folder).

Files: opt/yaoxiehua-inspect/_internal/PySide6/*
License: LGPL-3.0 (Qt for Python)
"""


def version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def architecture() -> str:
    try:
        return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "amd64"


def glibc_needed(build: Path) -> str:
    """The newest GLIBC_x.y symbol version any bundled binary needs (objdump): libc6's minimum.

    It is the build machine's and the wheels' (PySide6 6.10: manylinux_2_34), not a choice:
    a target with an older glibc cannot run the build at all, so the package says so."""
    import re

    newest = (2, 28)
    for path in [build / NAME, *build.rglob("*.so*")]:
        if not path.is_file() or path.is_symlink():
            continue
        try:
            out = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True).stdout
        except OSError:
            return "2.34"  # no binutils: the wheels' floor
        for major, minor in re.findall(r"GLIBC_(\d+)\.(\d+)", out):
            newest = max(newest, (int(major), int(minor)))
    return f"{newest[0]}.{newest[1]}"


def _size_kib(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) // 1024 + 1


def stage(build: Path, root: Path) -> None:
    """The package's file tree under ``root``: modes 0755/0644, owner root at packing time."""
    opt = root / "opt" / NAME
    shutil.copytree(build, opt, symlinks=True)
    bin_dir = root / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    for program in PROGRAMS:
        if not (opt / program).is_file():
            raise SystemExit(f"{build} has no {program}: build it with `pyinstaller pyinstaller.spec` first")
        (bin_dir / program).symlink_to(f"/opt/{NAME}/{program}")
    apps = root / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy(ROOT / "packaging" / "linux" / f"{NAME}.desktop", apps)
    icons = root / "usr" / "share" / "icons" / "hicolor" / "256x256" / "apps"
    icons.mkdir(parents=True)
    shutil.copy(ROOT / "resources" / "icons" / f"{NAME}.png", icons)
    doc = root / "usr" / "share" / "doc" / NAME
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT, encoding="utf-8")
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            executable = path.stat().st_mode & 0o111 or path.name in PROGRAMS
            path.chmod(0o755 if executable else 0o644)


def control(root: Path, arch: str, glibc: str, package_version: str) -> str:
    return (f"Package: {NAME}\nVersion: {package_version}\nArchitecture: {arch}\n"
            "Maintainer: 药械化现场检查 <noreply@localhost>\n"
            f"Installed-Size: {_size_kib(root)}\nDepends: libc6 (>= {glibc}), {DEPENDS}\n"
            "Section: misc\nPriority: optional\n"
            "Homepage: https://localhost/yaoxiehua-inspect\n"
            "Description: offline on-site inspections for market-supervision stations\n"
            " 药械化现场检查: checklists for cosmetics (5+3+1), medical-device operators and\n"
            " pharmacies, the printed A4 forms with QR verification, and batch sync with\n"
            " the station. Installs under /opt/yaoxiehua-inspect; the data stays in the\n"
            " user's folder (~/.local/share/yaoxiehua-inspect) across upgrades and removal.\n")


def build_deb(build: Path, out_dir: Path, *, compression: str = "gzip", package_version: str | None = None) -> Path:
    """The .deb of the folder ``build``; ``package_version``: pyproject's unless given (tests: an upgrade)."""
    arch = architecture()
    package_version = package_version or version()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{NAME}_{package_version}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="deb-") as tmp:
        root = Path(tmp) / "root"
        stage(build, root)
        (root / "DEBIAN").mkdir(mode=0o755)
        (root / "DEBIAN" / "control").write_text(control(root, arch, glibc_needed(build), package_version), encoding="utf-8")
        (root / "DEBIAN" / "control").chmod(0o644)
        subprocess.run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(root), str(target)],
                       check=True, stdout=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C.UTF-8"})
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Package dist/yaoxiehua-inspect/ as a .deb")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where pyinstaller put the folder")
    parser.add_argument("--out", type=Path, default=None, help="where to write the .deb (default: --dist)")
    parser.add_argument("--compression", choices=("gzip", "xz", "none"), default="xz",
                        help="xz: smaller, for release (default); gzip or none: faster (tests)")
    args = parser.parse_args(argv)
    target = build_deb(args.dist / NAME, args.out or args.dist, compression=args.compression)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
