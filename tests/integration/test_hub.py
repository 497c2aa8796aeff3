"""The station's HTTP sync hub (`main.py hub`), on SQLite and on a real PostgreSQL server.

The hub runs as a subprocess on 127.0.0.1 and a free port; the laptop is an SQLite
database in the test process talking to it through ``core.sync.client``. The PostgreSQL
server is started by the tests themselves (tests/integration/pg.py) and skipped, with the
reason, when its binaries are not installed (.ci/run installs them).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from core import sync
from core.sync import client as sync_client
from core.audit import verify_chain
from core.context import AppContext
from core.errors import InvalidInput
from core.subjects import SubjectData, add_subject
from tests.integration import pg
from tests.support import paused_import
from core import inspections as svc
from tests.integration.helpers import register_officers
from tests.integration.test_sync import COMPARED, inspect_offline
from tests.integration.test_sync import dump as dump_all

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def dump(ctx: AppContext) -> dict[str, list[tuple]]:
    """Every table but the hub's record of accepted requests (each accepted request adds one)."""
    tables = dump_all(ctx)
    assert "hub_requests" in tables
    del tables["hub_requests"]
    return tables


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


class Station:
    """The station's database (SQLite file or PostgreSQL URL) and the folder the hub uses."""

    def __init__(self, db: str, data_dir: Path):
        self.db = db
        self.data_dir = data_dir
        self.ctx = AppContext.open(db, attachments_dir=data_dir / "attachments")


@pytest.fixture
def station(backend, tmp_path, request) -> Station:
    data_dir = tmp_path / "hub-data"
    if backend == "postgresql":
        db = request.getfixturevalue("pg_server").create_database()
    else:
        db = str(tmp_path / "station.db")
    st = Station(db, data_dir)
    add_subject(st.ctx, SubjectData(
        name="驿城区测试化妆品店", category="cosmetics_operator", credit_code="91350100M000100Y43",
        legal_rep="张三", address="驻马店市驿城区测试路1号", phone="13800000000", grid="测试社区"))
    register_officers(st.ctx)  # the officers who sign on the laptop are on the station's list
    yield st
    st.ctx.close()


def laptop_of(st: Station, tmp_path: Path, name: str = "执法笔记本1") -> tuple[AppContext, dict]:
    data = sync.add_device(st.ctx, name)
    laptop = AppContext.open(tmp_path / f"{name}.db")
    sync.enrol_device(laptop, data)
    return laptop, data


class HubProcess:
    """``python main.py hub`` in a subprocess on 127.0.0.1 and a free port."""

    def __init__(self, st: Station, *extra: str, pause: float | None = None):
        self.port = pg.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = st.data_dir.parent / f"hub-{self.port}.log"
        st.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            args = ["hub", "--db", st.db, "--host", "127.0.0.1", "--port", str(self.port),
                    "--data-dir", str(st.data_dir), *extra]
            command = [PY, str(ROOT / "main.py"), *args] if pause is None else paused_import.command(pause, *args)
            self.proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hub exited {self.proc.returncode}: {self.log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"hub did not start in 60 s: {self.log.read_text(errors='replace')}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def hubs():
    started: list[HubProcess] = []

    def start(st: Station, *extra: str, pause: float | None = None) -> HubProcess:
        started.append(HubProcess(st, *extra, pause=pause))
        return started[-1]

    yield start
    for hub in started:
        hub.stop()


def raw_request(url: str, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None):
    """An HTTP request with exactly these headers: (status, JSON body)."""
    req = urllib.request.Request(url + target, data=body if method != "GET" else None, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def offline_inspection(st: Station, laptop: AppContext, url: str, tmp_path: Path, officers) -> str:
    """Pull master data over the hub, then inspect the station's subject offline."""
    pulled = sync_client.pull(laptop, url)
    assert pulled.packages >= 1 and pulled.applied >= 1
    with laptop.sessions() as s:
        from db.models import Subject

        subject_id = s.query(Subject.id).filter_by(credit_code="91350100M000100Y43").scalar()
    assert subject_id is not None
    return inspect_offline(laptop, subject_id, officers, tmp_path)


def typed_rows(ctx: AppContext, table: str, inspection_id: str) -> list[dict]:
    """Rows of an inspection's table with typed values (comparable across SQLite and PostgreSQL)."""
    t = sync.BY_TABLE[table].__table__
    column = t.c.id if table == "inspections" else t.c.inspection_id
    with ctx.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(t.select().where(column == inspection_id).order_by(t.c.id))]


# --- tests ---------------------------------------------------------------------------------------

def test_push_pull_round_trip(station, hubs, tmp_path, officers):
    laptop, _ = laptop_of(station, tmp_path)
    hub = hubs(station)
    inspection_id = offline_inspection(station, laptop, hub.url, tmp_path, officers)

    out = tmp_path / "out"
    out.mkdir()
    packages = sync.export_packages(laptop, out)
    first = sync_client.push(laptop, hub.url, packages)
    assert first.applied > 0 and first.conflicts == 0 and first.already_imported == 0
    before = dump(station.ctx)
    again = sync_client.push(laptop, hub.url, packages)
    assert again.already_imported == len(packages) and again.applied == 0
    assert dump(station.ctx) == before

    for table in COMPARED:
        here, there = typed_rows(station.ctx, table, inspection_id), typed_rows(laptop, table, inspection_id)
        assert len(here) == len(there), table
        for a, b in zip(here, there):
            assert a == b, (table, {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)})
    record = svc.load_inspection(station.ctx, inspection_id)
    assert record.status == "signed" and record.current_hash() == record.content_hash
    assert verify_chain(station.ctx).ok
    # the photo travelled into the hub's attachments folder
    assert any((station.data_dir / "attachments").rglob("*.jpg"))

    # the station's answer (its acknowledgement) comes back on the next pull
    back = sync_client.pull(laptop, hub.url)
    assert back.packages >= 1 and back.conflicts == 0
    # a fresh export pushed through the CLI (laptop side) also works
    result = subprocess.run([PY, str(ROOT / "main.py"), "sync", "push", "--db", str(tmp_path / "执法笔记本1.db"),
                             "--url", hub.url, "--json"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["packages"] == 1
    result = subprocess.run([PY, str(ROOT / "main.py"), "sync", "pull", "--db", str(tmp_path / "执法笔记本1.db"),
                             "--url", hub.url, "--json"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["packages"] >= 1 and json.loads(result.stdout)["conflicts"] == 0
    laptop.close()


def test_demo_station_serves_its_master_data(backend, pg_server_if, tmp_path):
    """A station full of demo data (tasks, rectifications, leads, users...) pulled by a new laptop."""
    from core.demo import create_demo
    from db.models import InspectionTask, Subject

    db = pg_server_if(backend) or str(tmp_path / "station.db")
    st = Station(db, tmp_path / "hub-data")
    create_demo(st.ctx)
    laptop, _ = laptop_of(st, tmp_path)
    hub = HubProcess(st)
    try:
        pulled = sync_client.pull(laptop, hub.url)
    finally:
        hub.stop()
    assert pulled.packages == 1 and pulled.applied > 0 and pulled.conflicts == 0
    with st.ctx.sessions() as a, laptop.sessions() as b:
        for model in (Subject, InspectionTask):
            assert a.query(model.id).count() == b.query(model.id).count() > 0, model
    assert verify_chain(laptop).ok and verify_chain(st.ctx).ok
    laptop.close()
    st.ctx.close()


@pytest.fixture
def pg_server_if(request):
    """``pg_server_if(backend)``: a fresh PostgreSQL database URL, or None for SQLite."""
    def make(backend: str) -> str | None:
        return request.getfixturevalue("pg_server").create_database() if backend == "postgresql" else None
    return make


def test_requests_refused(station, hubs, tmp_path, officers):
    laptop, data = laptop_of(station, tmp_path)
    other, other_data = laptop_of(station, tmp_path, "执法笔记本2")
    hub = hubs(station, "--max-upload-mb", "0.05")
    offline_inspection(station, laptop, hub.url, tmp_path, officers)
    out = tmp_path / "out"
    out.mkdir()
    (package,) = sync.export_packages(laptop, out)
    body = package.read_bytes()
    before = dump(station.ctx)
    target = "/api/v1/packages"

    def signed(key: str, device: str, payload: bytes, *, now: float | None = None, method: str = "POST",
               path: str = target) -> dict[str, str]:
        return {sync_client.H_DEVICE: device, **sync_client.sign_request(key, method, path, payload, now=now)}

    status, answer = raw_request(hub.url, "POST", target, body)
    assert status == 401 and "签名" in answer["error"]
    status, answer = raw_request(hub.url, "GET", "/api/v1/packages?after=0")
    assert status == 401
    # signed with another laptop's key
    status, refused = raw_request(hub.url, "POST", target, body,
                                  signed(other_data["device_private_key"], data["device_id"], body))
    assert status == 401 and "签名无效" in refused["error"]
    # the body changed after signing
    status, answer = raw_request(hub.url, "POST", target, body + b"x",
                                 signed(data["device_private_key"], data["device_id"], body))
    assert status == 401
    # a device this station never registered: the same answer as a bad signature
    status, answer = raw_request(hub.url, "POST", target, body, signed(data["device_private_key"], "f" * 36, body))
    assert status == 401 and "未在本所登记" in answer["error"] and answer == refused
    # too old a timestamp
    status, answer = raw_request(hub.url, "POST", target, body,
                                 signed(data["device_private_key"], data["device_id"], body, now=time.time() - 900))
    assert status == 401 and "分钟" in answer["error"]
    # a laptop uploading another laptop's package
    status, answer = raw_request(hub.url, "POST", target, body,
                                 signed(other_data["device_private_key"], other_data["device_id"], body))
    assert status == 403
    # a tampered package: refused by core with its Chinese message
    tampered = bytearray(body)
    tampered[len(tampered) // 2] ^= 0x01
    tampered = bytes(tampered)
    status, answer = raw_request(hub.url, "POST", target, tampered,
                                 signed(data["device_private_key"], data["device_id"], tampered))
    assert status == 400 and "同步包" in answer["error"]
    # too big for the hub's limit (0.05 MB)
    big = os.urandom(200 * 1024)
    status, answer = raw_request(hub.url, "POST", target, big, signed(data["device_private_key"], data["device_id"], big))
    assert status == 413 and "上限" in answer["error"]
    # the same signed request twice (a replay)
    headers = signed(data["device_private_key"], data["device_id"], b"", method="GET", path="/api/v1/packages/999")
    assert raw_request(hub.url, "GET", "/api/v1/packages/999", headers=headers)[0] == 404
    status, answer = raw_request(hub.url, "GET", "/api/v1/packages/999", headers=headers)
    assert status == 401 and "重复" in answer["error"]
    # unknown route: JSON too
    status, answer = raw_request(hub.url, "GET", "/nothing")
    assert status == 404 and "error" in answer

    assert dump(station.ctx) == before
    # the client turns a refusal into one clear InvalidInput
    with pytest.raises(InvalidInput, match="HTTP 400"):
        sync_client.HubClient.for_laptop(laptop, hub.url).push_file(_write(tmp_path / "bad.zip", tampered))
    # the genuine package still goes through
    assert sync_client.push(laptop, hub.url, [package]).applied > 0
    other.close()
    laptop.close()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_seq_reused_with_other_content_is_409(station, hubs, tmp_path, officers):
    from tests.integration.test_sync import signed_package

    laptop, data = laptop_of(station, tmp_path)
    hub = hubs(station)
    offline_inspection(station, laptop, hub.url, tmp_path, officers)
    out = tmp_path / "out"
    out.mkdir()
    (package,) = sync.export_packages(laptop, out)
    assert sync_client.push(laptop, hub.url, [package]).applied > 0
    before = dump(station.ctx)
    forged = signed_package(package, tmp_path / "forged.zip", data["device_private_key"],
                            lambda m: m.update(created_at="2020-01-01T00:00:00"))
    with pytest.raises(InvalidInput, match="HTTP 409"):
        sync_client.push(laptop, hub.url, [forged])
    assert dump(station.ctx) == before
    laptop.close()


def test_hub_killed_during_upload_leaves_station_unchanged(station, hubs, tmp_path, officers):
    laptop, _ = laptop_of(station, tmp_path)
    hub = hubs(station)
    offline_inspection(station, laptop, hub.url, tmp_path, officers)
    hub.stop()  # killed between requests: nothing to undo
    out = tmp_path / "out"
    out.mkdir()
    (package,) = sync.export_packages(laptop, out)
    before = dump(station.ctx)

    # the import pauses inside its transaction; the hub is killed there
    slow = hubs(station, pause=60)
    outcome: dict[str, object] = {}

    def upload() -> None:
        try:
            outcome["result"] = sync_client.push(laptop, slow.url, [package])
        except InvalidInput as exc:
            outcome["error"] = exc.message

    worker = threading.Thread(target=upload, daemon=True)
    worker.start()
    time.sleep(4)  # verify + apply take well under a second here; then it sleeps in the transaction
    assert worker.is_alive(), outcome
    slow.kill()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert "error" in outcome and "无法连接" in str(outcome["error"])
    assert dump(station.ctx) == before

    again = hubs(station)
    result = sync_client.push(laptop, again.url, [package])
    assert result.applied > 0 and result.already_imported == 0
    assert verify_chain(station.ctx).ok
    laptop.close()


def test_hub_refuses_to_start_on_a_laptop_database(tmp_path):
    st = AppContext.open(tmp_path / "station.db")
    laptop = AppContext.open(tmp_path / "laptop.db")
    sync.enrol_device(laptop, sync.add_device(st, "执法笔记本1"))
    laptop.close()
    st.close()
    result = subprocess.run([PY, str(ROOT / "main.py"), "hub", "--db", str(tmp_path / "laptop.db"),
                             "--host", "127.0.0.1", "--port", str(pg.free_port())],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2 and "不是所里的电脑" in result.stderr


def test_push_without_network_says_to_use_usb(tmp_path):
    st = AppContext.open(tmp_path / "station.db")
    laptop = AppContext.open(tmp_path / "laptop.db")
    sync.enrol_device(laptop, sync.add_device(st, "执法笔记本1"))
    with pytest.raises(InvalidInput, match="U盘"):
        sync_client.pull(laptop, f"http://127.0.0.1:{pg.free_port()}")
    laptop.close()
    st.close()


def test_station_writes_while_the_hub_imports(station, hubs, tmp_path, officers):
    """The office PC edits the register while a laptop's package is being imported: both land
    and the audit chain stays one chain (on PostgreSQL the writers queue on the audit chain's lock)."""
    laptop, _ = laptop_of(station, tmp_path)
    hub = hubs(station)
    offline_inspection(station, laptop, hub.url, tmp_path, officers)
    hub.stop()
    slow = hubs(station, pause=3)
    outcome: dict[str, object] = {}

    def upload() -> None:
        try:
            outcome["result"] = sync_client.push(laptop, slow.url)
        except InvalidInput as exc:  # pragma: no cover - reported by the assertion below
            outcome["error"] = exc.message

    worker = threading.Thread(target=upload, daemon=True)
    worker.start()
    time.sleep(1.5)
    add_subject(station.ctx, SubjectData(
        name="驿城区第二化妆品店", category="cosmetics_operator", credit_code="91411702MA9XXXXX1D",
        legal_rep="李四", address="驻马店市驿城区测试路2号", phone="13800000001", grid="测试社区"))
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert "result" in outcome, outcome
    assert outcome["result"].applied > 0
    assert verify_chain(station.ctx).ok
    laptop.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_busy_database_is_answered_503_and_the_laptop_sends_again(station, hubs, tmp_path, officers):
    """The office PC holds the station's database longer than the hub waits for it (SQLite's busy
    timeout, 5 s): the hub answers 503 with Retry-After ("busy", nothing written) and the laptop sends
    the package again until it lands. Fault before: the hub answered 400, and the laptop gave up with
    "数据库正被另一个程序占用" although nothing was wrong with its package."""
    laptop, _ = laptop_of(station, tmp_path)
    hub = hubs(station)
    offline_inspection(station, laptop, hub.url, tmp_path, officers)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with station.ctx.transaction() as s:
            s.connection().exec_driver_sql("UPDATE subjects SET phone = phone")  # the write lock, held
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(10)
    threading.Timer(8, release.set).start()  # longer than the hub's busy timeout
    out = tmp_path / "out"
    out.mkdir()
    [package] = sync.export_packages(laptop, out)
    client = sync_client.HubClient.for_laptop(laptop, hub.url)
    try:
        result = client.push_file(package)
    finally:
        release.set()
        holder.join(10)
    assert client.busy_retries >= 1  # told 503, it waited and sent the package again
    assert result["applied"] > 0 and result["conflicts"] == 0
    assert verify_chain(station.ctx).ok
    laptop.close()


def test_replay_refused_after_a_restart_and_revoked_device_refused(station, hubs, tmp_path):
    """On both backends: the record of accepted requests is in the station's database."""
    from hub.service import NOT_AUTHENTICATED, REPLAYED

    laptop, data = laptop_of(station, tmp_path)
    hub = hubs(station)
    target = "/api/v1/packages/999"
    headers = {sync_client.H_DEVICE: data["device_id"],
               **sync_client.sign_request(data["device_private_key"], "GET", target, b"")}
    assert raw_request(hub.url, "GET", target, headers=headers)[0] == 404
    hub.stop()
    hub = hubs(station)
    before = dump_all(station.ctx)
    upper = {**headers, sync_client.H_SIGNATURE: headers[sync_client.H_SIGNATURE].upper()}
    assert raw_request(hub.url, "GET", target, headers=upper) == (401, {"error": REPLAYED})
    assert dump_all(station.ctx) == before
    sync.revoke_device(station.ctx, data["device_id"])
    before = dump_all(station.ctx)
    with pytest.raises(InvalidInput, match="HTTP 401"):
        sync_client.pull(laptop, hub.url)
    fresh = {sync_client.H_DEVICE: data["device_id"],
             **sync_client.sign_request(data["device_private_key"], "GET", target, b"")}
    assert raw_request(hub.url, "GET", target, headers=fresh) == (401, {"error": NOT_AUTHENTICATED})
    assert dump_all(station.ctx) == before
    laptop.close()
