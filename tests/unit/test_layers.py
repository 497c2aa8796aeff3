"""The layers run gui | cli -> core -> db, never backwards; gui and cli stay apart; core, db and cli
import no Qt (import-linter)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken" in result.stdout


def _imported(path: Path) -> list[str]:
    """Every module ``path`` imports, at the top or inside functions."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module or "")
    return names


def test_no_qt_in_core_or_db_even_lazily():
    """import-linter sees imports inside functions too; this also guards against strings."""
    for folder in ("core", "db"):
        for path in (ROOT / folder).rglob("*.py"):
            for name in _imported(path):
                assert not name.startswith(("PySide6", "gui")), f"{path}: imports {name}"


def test_cli_imports_no_gui_db_or_qt_even_lazily():
    """The CLI reaches the data only through core services, and must run with no display."""
    paths = sorted((ROOT / "cli").rglob("*.py"))
    assert paths
    for path in paths:
        for name in _imported(path):
            assert name.split(".")[0] not in ("PySide6", "gui", "db"), f"{path}: imports {name}"


def test_modules_stay_small_and_main_py_thin():
    """No module of the interfaces or the domain over 500 lines; main.py a composition root."""
    sizes = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
             for folder in ("core", "gui", "cli", "hub") for path in (ROOT / folder).rglob("*.py")}
    assert len(sizes) > 40
    assert {name: n for name, n in sizes.items() if n > 500} == {}
    assert len((ROOT / "main.py").read_text(encoding="utf-8").splitlines()) <= 40
