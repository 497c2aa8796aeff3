"""The shipped build: PyInstaller's one-folder app, built from pyinstaller.spec, run as a station
would run it — from a folder outside the source tree, with its own home — and its .deb
installed, upgraded and removed with dpkg in a scratch root.

Not part of the default test command (``norecursedirs``: it builds for ~30–60 s); .ci/run runs
it on every change: ``python -m pytest -m build tests/bundle``.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.build

ROOT = Path(__file__).resolve().parents[2]
NAME = "yaoxiehua-inspect"
with open(ROOT / "pyproject.toml", "rb") as _fh:
    VERSION = tomllib.load(_fh)["project"]["version"]
# the bundle's size, measured: ~187 MiB with the fonts and SQLCipher (315 MiB with the old spec);
# a ceiling that catches a dependency or a Qt module creeping back in
MAX_MIB = 195


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    if shutil.which("strip") is None:
        pytest.fail("binutils (strip, objdump) is needed to build: apt-get install binutils")
    work = tmp_path_factory.mktemp("pyinstaller")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(work / "dist"), "--workpath", str(work / "build"), "pyinstaller.spec"],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    print(f"\npyinstaller: {time.perf_counter() - started:.1f} s")
    folder = work / "dist" / NAME
    assert (folder / NAME).is_file() and (folder / f"{NAME}-cli").is_file()
    return folder


@pytest.fixture(scope="module")
def station(tmp_path_factory) -> Path:
    """A folder away from the source tree: the working directory and the home of the runs."""
    place = tmp_path_factory.mktemp("station")
    (place / "home").mkdir()
    return place


def _env(station: Path) -> dict[str, str]:
    home = station / "home"
    # the databases are encrypted (SQLCipher, bundled); the commands run as a station service does,
    # with a service key file (docs/keys.md) instead of a user's --as/--password-file
    service_key = home / "service.key"
    if not service_key.exists():
        service_key.parent.mkdir(parents=True, exist_ok=True)
        service_key.write_bytes(os.urandom(32))
        service_key.chmod(0o600)
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"), "YXJC_KEY_DIR": str(home / "keys"),
            "YXJC_SERVICE_KEY_FILE": str(service_key), "QT_QPA_PLATFORM": "offscreen"}


def _cli(bundle: Path, station: Path, *args: str, program: str = f"{NAME}-cli") -> subprocess.CompletedProcess:
    return subprocess.run([str(bundle / program), *args], cwd=station, env=_env(station), capture_output=True,
                          text=True, encoding="utf-8", timeout=300)


@pytest.fixture(scope="module")
def demo_db(bundle, station) -> Path:
    result = _cli(bundle, station, "demo", "--db", "station.db")
    assert result.returncode == 0, result.stderr
    assert "示例站所已就绪" in result.stdout
    db = station / "station.db"
    assert not db.read_bytes().startswith(b"SQLite format 3\x00")  # SQLCipher is in the bundle
    # without the key at hand: one line saying what it needs (user wraps are made at log-in)
    env = {k: v for k, v in _env(station).items() if k != "YXJC_SERVICE_KEY_FILE"}
    refused = subprocess.run([str(bundle / f"{NAME}-cli"), "inspections", "--db", str(db), "--json"], cwd=station,
                             env=env, capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert refused.returncode == 2 and refused.stderr.startswith("错误：数据库已加密")
    return db


def test_version_and_the_usage_name_the_program(bundle, station):
    for program in (f"{NAME}-cli", NAME):
        result = _cli(bundle, station, "--version", program=program)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"药械化现场检查 {VERSION}"
    usage = _cli(bundle, station, "--help")
    assert usage.returncode == 0 and usage.stdout.startswith(f"用法：{NAME}-cli ")
    wrong = _cli(bundle, station, "print", "--db", "missing.db", "--inspection", "1", "--form", "record",
                 "--out", "x.pdf")
    assert wrong.returncode == 2 and wrong.stderr.startswith("错误：数据库不存在") and not (station / "missing.db").exists()


def test_demo_print_with_embedded_fonts_and_verify(bundle, station, demo_db, qapp):
    from tests.integration.pdfcheck import decode_qr

    listed = _cli(bundle, station, "inspections", "--db", str(demo_db), "--json")
    assert listed.returncode == 0, listed.stderr
    signed = [r for r in json.loads(listed.stdout) if r["status"] == "signed"]
    assert len(signed) >= 1
    out = station / "record.pdf"
    printed = _cli(bundle, station, "print", "--db", "station.db", "--inspection", signed[0]["number"],
                   "--form", "record", "--out", "record.pdf")
    assert printed.returncode == 0, printed.stderr
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert len(fonts) >= 2  # the body's 仿宋 and the title's 宋体 at least
    assert [line for line in fonts if line.split()[-5] != "yes"] == []  # the "emb" column
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert f"药械化现场检查 {VERSION}" in info  # Creator: the program and its version
    payload = decode_qr(out)[0]
    ok = _cli(bundle, station, "verify", "--db", "station.db", payload)
    assert ok.returncode == 0 and "核验通过" in ok.stdout, ok.stderr
    tampered = _cli(bundle, station, "verify", "--db", "station.db", payload[:-1] + ("0" if payload[-1] != "0" else "1"))
    assert tampered.returncode == 2 and len(tampered.stderr.strip().splitlines()) == 1
    audit = _cli(bundle, station, "audit", "verify", "--db", "station.db")
    assert audit.returncode == 0 and "审计链完整" in audit.stdout, audit.stderr


def test_the_gui_starts_offscreen_and_reaches_the_log_in_window(bundle, station, demo_db):
    log = station / "home" / "data" / NAME / "logs" / "yxjc.log"
    process = subprocess.Popen([str(bundle / NAME), "--db", str(demo_db)], cwd=station, env=_env(station),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline and process.poll() is None:
            text = log.read_text(encoding="utf-8") if log.exists() else ""
            if "log-in window shown" in text:
                break
            time.sleep(0.2)
        assert process.poll() is None, process.communicate()[1].decode("utf-8", "replace")[-2000:]
        assert f"start: 药械化现场检查 {VERSION}" in text
        assert "log-in window shown: 登录 — 药械化现场检查" in text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_every_bundled_library_resolves(bundle):
    """ldd with the bundle's own folders: nothing the spec trimmed is still needed (QtCharts needs
    Qt's OpenGLWidgets, for one), and what is left to the target is a system library."""
    if shutil.which("ldd") is None:
        pytest.skip("no ldd")
    paths = f"{bundle / '_internal'}:{bundle / '_internal' / 'PySide6' / 'Qt' / 'lib'}"
    elves = [p for p in [bundle / NAME, bundle / f"{NAME}-cli", *(bundle / "_internal").rglob("*.so*")]
             if p.is_file() and not p.is_symlink() and p.read_bytes()[:4] == b"\x7fELF"]
    assert len(elves) > 100
    missing = []
    for elf in elves:
        out = subprocess.run(["ldd", str(elf)], capture_output=True, text=True,
                             env={"LD_LIBRARY_PATH": paths, "PATH": "/usr/bin:/bin"}).stdout
        missing += [f"{elf.relative_to(bundle)}: {line.strip()}" for line in out.splitlines() if "not found" in line]
    assert missing == []


def test_the_bundle_is_lean(bundle):
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    size = sum(p.stat().st_size for p in files)
    print(f"\nbundle: {size / 2**20:.0f} MiB, {len(files)} files")
    assert len(files) > 100 and size <= MAX_MIB * 2**20
    names = {p.name for p in files}
    unused = [n for n in names if n.startswith(("libQt6Quick", "libQt6Qml", "libQt6VirtualKeyboard", "libQt6Wayland",
                                                "libqgtk3", "libqwayland", "libqeglfs"))]
    assert unused == []
    # build-machine libraries a desktop has (kept: OpenSSL 3, libffi 8, SQLite — pyinstaller.spec)
    system = [n for n in names if n in ("libstdc++.so.6", "libgcc_s.so.1", "libX11.so.6", "libxcb.so.1",
                                        "libglib-2.0.so.0", "libfontconfig.so.1", "libfreetype.so.6", "libdbus-1.so.3",
                                        "libcups.so.2", "libgtk-3.so.0", "libz.so.1", "libgnutls.so.30")]
    assert system == []
    qm = [p.name for p in files if p.suffix == ".qm"]
    assert qm == ["qtbase_zh_CN.qm"]
    assert (bundle / "_internal" / "resources" / "icons" / f"{NAME}.png").is_file()
    icu = bundle / "_internal" / "PySide6" / "Qt" / "lib" / "libicudata.so.73"
    if shutil.which("icupkg"):  # tools/trim_icu.py ran: Qt's ICU data without the unused locales
        assert icu.stat().st_size < 12 * 2**20


def _dpkg(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["dpkg", f"--root={root}", "--force-script-chrootless", "--log=/dev/null", *args],
                          capture_output=True, text=True, timeout=300)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_deb_installs_under_opt_upgrades_keeping_the_data_and_removes_cleanly(bundle, station, tmp_path):
    if shutil.which("dpkg-deb") is None or shutil.which("dpkg") is None:
        pytest.skip("no dpkg")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from build_deb import build_deb
    finally:
        sys.path.remove(str(ROOT / "tools"))
    old = build_deb(bundle, tmp_path / "old", compression="none", package_version=f"{VERSION}~old")
    new = build_deb(bundle, tmp_path / "new", compression="none")
    assert new.name == f"{NAME}_{VERSION}_amd64.deb"

    listing = subprocess.run(["dpkg-deb", "-c", str(new)], capture_output=True, text=True, check=True).stdout
    entries = [line.split() for line in listing.splitlines()]
    assert len(entries) > 100
    assert {e[1] for e in entries} == {"root/root"}
    paths = [e[5] for e in entries]
    allowed = ("./", "./opt/", "./usr/", "./usr/bin/", "./usr/share/", f"./opt/{NAME}/", "./usr/share/applications/",
               "./usr/share/icons/", "./usr/share/doc/")
    assert [p for p in paths if not p.startswith(allowed)] == []
    for needed in (f"./opt/{NAME}/{NAME}", f"./opt/{NAME}/{NAME}-cli", f"./usr/share/applications/{NAME}.desktop",
                   f"./usr/share/icons/hicolor/256x256/apps/{NAME}.png", f"./usr/share/doc/{NAME}/copyright",
                   f"./usr/bin/{NAME}", f"./usr/bin/{NAME}-cli"):
        assert needed in paths
    fields = subprocess.run(["dpkg-deb", "-f", str(new)], capture_output=True, text=True, check=True).stdout
    for field in ("Package: yaoxiehua-inspect", f"Version: {VERSION}", "Architecture: amd64", "Maintainer:",
                  "Installed-Size:", "Depends: libc6 (>= 2.", "Description:"):
        assert field in fields
    desktop = (ROOT / "packaging" / "linux" / f"{NAME}.desktop").read_text(encoding="utf-8")
    assert f"Exec=/opt/{NAME}/{NAME}" in desktop and f"Icon={NAME}" in desktop and "Name=药械化现场检查" in desktop
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(ROOT / "packaging" / "linux" / f"{NAME}.desktop")],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr

    root = tmp_path / "root"
    for folder in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"):
        (root / folder).mkdir(parents=True)
    for name in ("status", "available"):
        (root / "var" / "lib" / "dpkg" / name).touch()
    # the scratch root has none of the desktop's libraries installed: only their check is forced
    installed = _dpkg(root, "--force-depends", "-i", str(old))
    assert installed.returncode == 0, installed.stderr
    program = root / "opt" / NAME / f"{NAME}-cli"
    assert os.access(program, os.X_OK) and (root / "usr" / "bin" / f"{NAME}-cli").is_symlink()

    # the user's data (the database and what lives beside it: anchors, attachments, backups) is
    # not the package's: made by the old version, kept byte for byte by the upgrade and removal
    data = station / "home" / "data" / NAME
    made = subprocess.run([str(program), "demo", "--db", str(data / "inspections.db")], cwd=station,
                          env=_env(station), capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    before = _digest(data / "inspections.db")
    upgraded = _dpkg(root, "--force-depends", "-i", str(new))
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"ii  {NAME}" in _dpkg(root, "-l", NAME).stdout and VERSION in _dpkg(root, "-l", NAME).stdout
    assert _digest(data / "inspections.db") == before
    ran = subprocess.run([str(program), "--version"], cwd=station, env=_env(station), capture_output=True, text=True)
    assert ran.returncode == 0 and VERSION in ran.stdout
    ran = subprocess.run([str(program), "audit", "verify", "--db", str(data / "inspections.db")], cwd=station,
                         env=_env(station), capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr

    purged = _dpkg(root, "--purge", NAME)
    assert purged.returncode == 0, purged.stderr
    left = [p for p in root.rglob("*") if p.relative_to(root).parts[0] != "var" and not p.is_dir()]
    assert left == []
    assert not (root / "opt" / NAME).exists() and not (root / "usr" / "bin" / NAME).exists()
    assert _digest(data / "inspections.db") == before  # even --purge leaves the user's data
