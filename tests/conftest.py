"""Test set-up: Qt offscreen, a fresh database per test, fixed helpers."""
from __future__ import annotations

import os
import sys
from pathlib import Path

if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    # Qt's offscreen screen, made the size of the small laptops stations have (1366×768)
    import json
    import tempfile

    _screen = Path(tempfile.mkdtemp(prefix="yxjc-test-screen-")) / "screen.json"
    _screen.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768,
                                                "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_screen}"
# the local wrapping keys (core.keystore) of the tests' databases: never in the user's folder
if "YXJC_KEY_DIR" not in os.environ:
    import tempfile

    os.environ["YXJC_KEY_DIR"] = tempfile.mkdtemp(prefix="yxjc-test-keys-")
# Every database the suite creates is ENCRYPTED (SQLCipher), opened with a test service key
# file (core.dbkeys: a key at hand, as a hub run as a service has); subprocesses inherit it.
# YXJC_TEST_PLAIN=1 runs the suite on plain SQLite files instead.
if os.environ.get("YXJC_TEST_PLAIN") != "1" and "YXJC_SERVICE_KEY_FILE" not in os.environ:
    import tempfile

    _service = Path(tempfile.mkdtemp(prefix="yxjc-test-service-")) / "service.key"
    _service.write_bytes(os.urandom(32))
    os.environ["YXJC_SERVICE_KEY_FILE"] = str(_service)
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The database key's password wraps made IN this process are cheap (scrypt n = 2¹⁰ instead of
# 2¹⁵): every log-in on an encrypted database makes or checks one, and the GUI tests log in
# hundreds of times. A wrap names its own parameters, so these open anywhere; subprocesses
# (the CLI tests) and tests/security/test_keywrap.py use the real cost.
import core.keywrap  # noqa: E402

core.keywrap.PASSWORD_KDF["n"] = 2**10

import pytest  # noqa: E402

# A new, empty SQLite database in THIS process gets the head schema replayed from a template
# built once by the real migration walk (tests/support/schema_template.py): ~0.05 s instead of
# ~0.7 s per database. Tests about migrations are marked ``real_migrations`` and walk them.
from tests.support import schema_template  # noqa: E402

schema_template.install()
_REPLAY_SCHEMA = schema_template.enabled


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before the test's fixtures (module ones included) are set up: replay or walk for this test."""
    schema_template.enabled = _REPLAY_SCHEMA and item.get_closest_marker("real_migrations") is None


@pytest.fixture
def ctx(tmp_path):
    from core.context import AppContext

    context = AppContext.open(tmp_path / "station.db")
    yield context
    context.close()


@pytest.fixture
def subject(ctx):
    from core.subjects import SubjectData, add_subject

    return add_subject(ctx, SubjectData(
        name="驿城区测试化妆品店", category="cosmetics_operator", credit_code="91350100M000100Y43",
        legal_rep="张三", address="驻马店市驿城区测试路1号", phone="13800000000", grid="测试社区",
    ))


OFFICERS_DATA = [("王建国", "41170021001"), ("李秀英", "41170021002")]


@pytest.fixture
def officers():
    from core.inspections import OfficerData

    return [OfficerData(n, c) for n, c in OFFICERS_DATA]


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The demo station as the ``demo`` command makes it (run once per worker, in this process, so
    with the cheap password wraps above): copy it with ``demo_copy`` rather than running ``demo``
    again; a test about what ``demo`` does runs the command itself."""
    import contextlib
    import io

    import main

    db = tmp_path_factory.mktemp("demo-template") / "station.db"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main.main(["demo", "--db", str(db)]) == 0
    return db


@pytest.fixture
def demo_copy(demo_template, tmp_path):
    """A fresh copy of the demo station (encrypted, the suite's service key opens it), its key
    sidecar, anchors and attachments with it: ``tmp_path/demo/station.db``."""
    from tests.support.stations import copy_station

    return copy_station(demo_template, tmp_path / "demo")


@pytest.fixture(scope="session")
def pg_server():
    """A throw-away PostgreSQL server (Debian's binaries), shared by the hub and lock tests; skipped without one."""
    import subprocess

    from tests.integration import pg

    reason = pg.unavailable()
    if reason:
        pytest.skip(reason)
    server = pg.PgServer(pg.find_bin())
    try:
        try:
            server.start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            # installed but cannot run here (no shared memory, sandbox...): say so in the -ra summary
            detail = getattr(exc, "stderr", "") or str(exc)
            pytest.skip(f"PostgreSQL is installed but the test server did not start: {detail.strip()[:300]}")
        yield server
    finally:
        server.stop()
