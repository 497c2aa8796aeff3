"""The README's first command as a new user runs it: `python main.py` on a machine with no data
folder makes the demo laptop — encrypted (SQLCipher, attachments sealed), its accounts unlocking it
with the demo password — and reaches the log-in window; the second start asks for the log-in
before it opens the database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _start_until_log_in(home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("YXJC_SERVICE_KEY_FILE", "YXJC_KEY_DIR")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), QT_QPA_PLATFORM="offscreen")
    log = home / "data" / "yaoxiehua-inspect" / "logs" / "yxjc.log"
    before = log.read_text(encoding="utf-8") if log.exists() else ""
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        text = ""
        while time.monotonic() < deadline and process.poll() is None:
            text = log.read_text(encoding="utf-8")[len(before):] if log.exists() else ""
            if "log-in window shown" in text:
                break
            time.sleep(0.2)
        assert process.poll() is None, process.communicate()[1].decode("utf-8", "replace")[-2000:]
        return text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_the_first_start_makes_an_encrypted_demo_laptop(tmp_path):
    from core import dbkeys
    from core.demo import DEMO_ADMIN, DEMO_PASSWORD

    assert "log-in window shown" in _start_until_log_in(tmp_path)
    data = tmp_path / "data" / "yaoxiehua-inspect"
    db = data / "inspections.db"
    assert not db.read_bytes().startswith(b"SQLite format 3\x00")
    assert dbkeys.opens_for(db, DEMO_ADMIN, DEMO_PASSWORD) and not dbkeys.opens_for(db, DEMO_ADMIN, "wrong")
    files = [p for p in (data / "inspections-attachments").rglob("*") if p.is_file()]
    assert files and all(p.read_bytes().startswith(b"\0YXJC-A") for p in files)
    # the second start: the log-in (name and password) comes before the database opens
    assert "log-in window shown" in _start_until_log_in(tmp_path)
