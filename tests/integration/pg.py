"""A throw-away PostgreSQL server for tests: initdb into a temp dir, pg_ctl start on a free port.

The server listens on 127.0.0.1 only, with its unix socket inside the data folder. When
running as root the server runs as the ``postgres`` OS user (PostgreSQL refuses root).
``find_bin()`` is None when the binaries are not installed: tests then skip with a reason
(``.ci/run`` installs Debian's ``postgresql`` so CI runs them).
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

SKIP_REASON = ("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
               "install Debian's postgresql package, as .ci/run does")


def unavailable() -> str | None:
    """Why a test server cannot be started here, or None when it can."""
    if find_bin() is None:
        return SKIP_REASON
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root but there is no `postgres` OS user to run the PostgreSQL server as"
        if shutil.which("runuser") is None:
            return "running as root but `runuser` is not available to start PostgreSQL as `postgres`"
    return None


def find_bin() -> Path | None:
    """The newest installed PostgreSQL bin folder, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One server; ``url(dbname)`` gives an SQLAlchemy URL (psycopg 3, over TCP on loopback)."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        # under /tmp when root: the `postgres` user must be able to reach the folder
        self.root = Path(tempfile.mkdtemp(prefix="yxjc-pg-", dir="/tmp" if os.geteuid() == 0 else None))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.user = "postgres" if self.as_root else os.environ.get("USER") or "postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)

    def start(self) -> None:
        if self.as_root:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
        self._run(self.bin / "initdb", "-D", self.data, "-U", self.user, "-A", "trust", "-E", "UTF8", "--no-sync",
                  "--locale=C.UTF-8" if Path("/usr/lib/locale/C.utf8").exists() else "--no-locale")
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off"
        try:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-o", opts, "-l", self.root / "server.log",
                      "-w", "-t", "30", "start", timeout=45)
        except subprocess.CalledProcessError as exc:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {exc.stderr}\n{log}") from exc

    def create_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy URL."""
        name = f"yxjc_{uuid.uuid4().hex[:12]}"
        self._run(self.bin / "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-E", "UTF8",
                  "-T", "template0", name)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        deadline = time.monotonic() + 30
        try:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "20", "stop", timeout=30)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pid_file = self.data / "postmaster.pid"
            if pid_file.exists() and time.monotonic() < deadline:
                try:
                    os.kill(int(pid_file.read_text().split()[0]), 9)
                except (OSError, ValueError):
                    pass
        shutil.rmtree(self.root, ignore_errors=True)
