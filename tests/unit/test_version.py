"""One version number, in pyproject.toml: --version, the PDFs' creator, sync manifests; the
usage text names the program; a build's GUI starts the hub through its console program."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cli.app import program_name
from core import paths
from core.version import APP_TITLE, app_banner, app_version

ROOT = Path(__file__).resolve().parents[2]


def _pyproject_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def test_the_version_is_pyprojects():
    assert app_version() == _pyproject_version()
    assert app_banner() == f"{APP_TITLE} {_pyproject_version()}"
    assert [line for line in (ROOT / "core" / "version.py").read_text(encoding="utf-8").splitlines()
            if line.strip().startswith(("__version__", "VERSION ="))] == []  # no second copy


def test_dash_dash_version_and_the_usage_name_the_program():
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "--version"], capture_output=True, text=True,
                         encoding="utf-8", timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == f"药械化现场检查 {_pyproject_version()}"
    usage = subprocess.run([sys.executable, str(ROOT / "main.py"), "--help"], capture_output=True, text=True,
                           encoding="utf-8", timeout=60)
    assert usage.returncode == 0 and usage.stdout.startswith("用法：main.py ") and "--version" in usage.stdout


def test_a_build_names_itself_and_starts_the_hub_through_its_console_program(tmp_path, monkeypatch):
    gui_exe = tmp_path / "yaoxiehua-inspect.exe"
    gui_exe.write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(gui_exe))
    assert program_name() == "yaoxiehua-inspect"
    assert paths.entry_command("hub", "--port", "1") == (str(gui_exe), ["hub", "--port", "1"])  # no console program
    cli_exe = tmp_path / "yaoxiehua-inspect-cli.exe"
    cli_exe.write_bytes(b"")
    assert paths.entry_command("hub") == (str(cli_exe), ["hub"])
    monkeypatch.setattr(sys, "executable", str(cli_exe))
    assert program_name() == "yaoxiehua-inspect-cli"
    assert paths.entry_command("hub") == (str(cli_exe), ["hub"])


@pytest.mark.parametrize("module", ["printing", "reports", "void_register"])
def test_the_pdfs_name_the_program_and_its_version(module):
    source = (ROOT / "core" / f"{module}.py").read_text(encoding="utf-8")
    assert source.count("creator=app_banner()") == 1 and 'creator="' not in source


def test_a_printed_form_carries_the_version_in_its_metadata(ctx, subject, officers, tmp_path):
    from pypdf import PdfReader

    from core.printing import print_form
    from tests.integration.helpers import signed_inspection

    inspection_id = signed_inspection(ctx, subject.id, officers)
    out = print_form(ctx, inspection_id, "record", tmp_path / "r.pdf")
    assert PdfReader(str(out)).metadata["/Creator"] == app_banner()


def test_every_sync_manifest_names_the_senders_version(ctx, subject, tmp_path):
    import json
    import zipfile

    from core import sync
    from tests.integration.test_sync import enrolled_laptop

    laptop, _data = enrolled_laptop(ctx, tmp_path, "笔记本1")
    (tmp_path / "out").mkdir()
    packages = sync.export_packages(ctx, tmp_path / "out")
    assert len(packages) >= 1
    manifests = [json.loads(zipfile.ZipFile(p).read("manifest.json")) for p in packages]
    assert [m["app_version"] for m in manifests] == [app_version()] * len(packages)
    assert sync.import_package(laptop, packages[0]) is not None  # the reader ignores the new key
