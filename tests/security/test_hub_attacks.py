"""Attacks on the station's sync hub (issue 10, item 6), each on loopback, bounded in count and time.

The hub runs as ``python main.py hub`` on 127.0.0.1 and a free port (tests/integration/
test_hub.py's ``HubProcess``) over an SQLite station. Every refused request is checked for
its status, its exact Chinese JSON error and that the station's database (every table),
its attachments and its outbox are byte for byte what they were.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import socket
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import event

import main
from core import sync
from core.context import AppContext
from core.errors import InvalidInput
from core.subjects import SubjectData, add_subject
from core.sync import client as sync_client
from core.signing import sign
from core.users import PermissionDenied, add_user, log_in
from db.models import SyncBatch
from hub.service import NOT_AUTHENTICATED, REPLAYED
from tests.integration.test_hub import HubProcess, Station, laptop_of, raw_request
from tests.security.digest import database_digest, folder_digest

LISTING = "/api/v1/packages?after=0"


# --- the station and its state ----------------------------------------------------------------

@pytest.fixture
def station(tmp_path):
    st = Station(str(tmp_path / "station.db"), tmp_path / "hub-data")
    add_subject(st.ctx, SubjectData(
        name="驿城区测试化妆品店", category="cosmetics_operator", credit_code="91350100M000100Y43",
        legal_rep="张三", address="驻马店市驿城区测试路1号", phone="13800000000", grid="测试社区"))
    yield st
    st.ctx.close()


@pytest.fixture
def hubs():
    started: list[HubProcess] = []

    def start(st: Station, *extra: str) -> HubProcess:
        started.append(HubProcess(st, *extra))
        return started[-1]

    yield start
    for hub in started:
        hub.stop()


def state(st: Station) -> tuple[str, str, str]:
    """(every table, the attachments folder, the hub's outbox): equal means nothing changed."""
    return (database_digest(st.db), folder_digest(st.data_dir / "attachments"),
            folder_digest(st.data_dir / "hub-outbox"))


def signed(key: str, device: str, method: str, target: str, body: bytes = b"", *,
           nonce: str | None = None, now: float | None = None) -> dict[str, str]:
    """The four authentication headers, with a chosen nonce if given."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = nonce or uuid.uuid4().hex
    signature = sign(key, sync_client.signing_text(method, target, timestamp, nonce, body)).hex()
    return {sync_client.H_DEVICE: device, sync_client.H_TIMESTAMP: timestamp, sync_client.H_NONCE: nonce,
            sync_client.H_SIGNATURE: signature}


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def outbox_files(st: Station, device_id: str) -> list[str]:
    return sorted(p.name for p in (st.data_dir / "hub-outbox" / device_id).glob("*.zip"))


def sent_batches(st: Station, device_id: str) -> int:
    with st.ctx.sessions() as s:
        return s.query(SyncBatch).filter_by(direction="out", peer_id=device_id).count()


# --- replay -------------------------------------------------------------------------------------

def test_replay_with_the_signature_recased_respaced_or_after_a_restart(station, hubs, tmp_path):
    laptop, data = laptop_of(station, tmp_path)
    key, device = data["device_private_key"], data["device_id"]
    hub = hubs(station)
    target = "/api/v1/packages/999"
    headers = signed(key, device, "GET", target)
    status, answer = raw_request(hub.url, "GET", target, headers=headers)
    assert status == 404 and "第 999 批" in answer["error"]  # accepted (authenticated), no such package
    before = state(station)

    signature = headers[sync_client.H_SIGNATURE]
    variants = {
        "the same": headers,
        "upper case": {**headers, sync_client.H_SIGNATURE: signature.upper()},
        "mixed case": {**headers, sync_client.H_SIGNATURE: signature[:64].upper() + signature[64:]},
        "spaces around": {**headers, sync_client.H_SIGNATURE: f"  {signature}  "},
    }
    for name, variant in variants.items():
        status, answer = raw_request(hub.url, "GET", target, headers=variant)
        assert (status, answer) == (401, {"error": REPLAYED}), name
    # spaces inside (bytes.fromhex would skip them) or a prefix: not a signature at all
    for name, bad in {"space inside": signature[:10] + " " + signature[10:], "0x prefix": "0x" + signature,
                      "one more digit": signature + "0"}.items():
        status, answer = raw_request(hub.url, "GET", target, headers={**headers, sync_client.H_SIGNATURE: bad})
        assert (status, answer) == (401, {"error": NOT_AUTHENTICATED}), name
    # the same nonce in a new, correctly signed request (another second): a replay too
    again = signed(key, device, "GET", target, nonce=headers[sync_client.H_NONCE], now=time.time() + 2)
    assert again[sync_client.H_SIGNATURE] != signature
    assert raw_request(hub.url, "GET", target, headers=again) == (401, {"error": REPLAYED})
    assert state(station) == before

    # the hub restarts: it still remembers (the record is in the station's database)
    hub.stop()
    hub = hubs(station)
    for name, variant in variants.items():
        assert raw_request(hub.url, "GET", target, headers=variant) == (401, {"error": REPLAYED}), name
    assert state(station) == before
    # a fresh request from the same laptop is served as before
    assert raw_request(hub.url, "GET", target, headers=signed(key, device, "GET", target))[0] == 404
    laptop.close()


def test_nonce_must_be_32_lowercase_hex(station, hubs, tmp_path):
    laptop, data = laptop_of(station, tmp_path)
    hub = hubs(station)
    before = state(station)
    message = {"error": "请求头 X-Nonce 应为 32 位十六进制小写字符，已拒绝"}
    for nonce in ("0" * 31, "0" * 33, "g" * 32, "A" * 32, "0" * 16 + " " * 16, "１" * 32):
        headers = signed(data["device_private_key"], data["device_id"], "GET", LISTING, nonce=nonce)
        if not nonce.isascii():
            headers[sync_client.H_NONCE] = nonce.encode("utf-8").decode("latin-1")
        assert raw_request(hub.url, "GET", LISTING, headers=headers) == (401, message), nonce
    assert state(station) == before
    laptop.close()


# --- no package per GET while the last one is unacknowledged -------------------------------------

def test_repeated_gets_add_no_package_until_the_laptop_acknowledges(station, hubs, tmp_path):
    laptop, data = laptop_of(station, tmp_path)
    device = data["device_id"]
    hub = hubs(station)
    client = sync_client.HubClient.for_laptop(laptop, hub.url)
    first = client.checked("GET", LISTING).json()["packages"]
    assert [p["seq"] for p in first] == [1]
    assert sent_batches(station, device) == 1 and len(outbox_files(station, device)) == 1
    for _ in range(5):  # fresh, genuine requests: the same package listed again, none added
        assert client.checked("GET", LISTING).json()["packages"] == first
    assert sent_batches(station, device) == 1 and len(outbox_files(station, device)) == 1
    # a replay of a GET adds nothing either: refused, nothing written
    headers = signed(data["device_private_key"], device, "GET", LISTING)
    assert raw_request(hub.url, "GET", LISTING, headers=headers)[0] == 200
    before = state(station)
    assert raw_request(hub.url, "GET", LISTING, headers=headers) == (401, {"error": REPLAYED})
    assert state(station) == before
    assert sent_batches(station, device) == 1

    # the laptop imports it and acknowledges it with its next upload: then a new one is made
    pulled = sync_client.pull(laptop, hub.url)
    assert pulled.packages == 1 and pulled.applied >= 1
    assert sync_client.pull(laptop, hub.url).packages == 0  # still unacknowledged: nothing new
    assert sent_batches(station, device) == 1
    sync_client.push(laptop, hub.url)
    assert sync.acked_seq(station.ctx, device) == 1
    again = client.checked("GET", "/api/v1/packages?after=1").json()["packages"]
    assert [p["seq"] for p in again] == [2]
    assert sent_batches(station, device) == 2
    assert [int(n[-10:-4]) for n in outbox_files(station, device)] == [2]  # the acknowledged one is gone
    laptop.close()


# --- slow and idle clients ------------------------------------------------------------------------

def _hub_sockets(pid: int) -> int:
    fd_dir = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fd_dir.iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
    return count


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _closed_by_peer(sock: socket.socket, deadline: float) -> bool:
    sock.settimeout(max(0.05, deadline - time.monotonic()))
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except (socket.timeout, TimeoutError):
        return False


IDLE_WANTED = 1100


def _idle_count() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE_WANTED + 200
    if soft < wanted and (hard == resource.RLIM_INFINITY or hard >= wanted):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return min(IDLE_WANTED, soft - 200)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to count the hub's sockets")
def test_idle_half_requests_do_not_starve_a_real_one_and_are_closed(station, hubs, tmp_path, capsys):
    count = _idle_count()
    if count < 300:
        pytest.skip(f"too few file descriptors for the test ({count + 200})")
    laptop, _ = laptop_of(station, tmp_path)
    timeout = 3
    hub = hubs(station, "--request-timeout", str(timeout))
    pid = hub.proc.pid
    rss_before = _rss_mb(pid)
    baseline = _hub_sockets(pid)  # the listening socket and the event loop's own pair
    idle: list[socket.socket] = []
    try:
        for i in range(count):
            sock = socket.create_connection(("127.0.0.1", hub.port), timeout=10)
            sock.sendall(b"GET /api/v1/packages?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Device-Id: ")
            idle.append(sock)
        # the hub closes the ones over MAX_WAITING as its event loop gets to them: on a loaded
        # machine that can take longer than a moment, but well within the header timeout
        settle = time.monotonic() + timeout - 0.5
        time.sleep(0.5)
        held = _hub_sockets(pid) - baseline
        while held > 256 and time.monotonic() < settle:
            time.sleep(0.1)
            held = _hub_sockets(pid) - baseline
        rss_idle = _rss_mb(pid)
        # a genuine laptop still gets its answer
        pulled = sync_client.pull(laptop, hub.url)
        assert pulled.packages == 1 and pulled.applied >= 1
        # a connection trickling its headers a byte at a time is not kept alive by the trickle
        trickle = socket.create_connection(("127.0.0.1", hub.port), timeout=10)
        sent, started = 0, time.monotonic()
        request = b"GET /api/v1/packages?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Pad: " + b"a" * 200
        try:
            while sent < len(request):
                trickle.sendall(request[sent:sent + 1])
                sent += 1
                if _closed_by_peer(trickle, time.monotonic() + 0.25):
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        trickle_seconds = time.monotonic() - started
        assert sent < len(request), "the hub kept a trickling connection open for the whole request"
        # every idle half-request is closed by the hub (at the latest after the header timeout)
        deadline = time.monotonic() + timeout + 30
        closed = sum(_closed_by_peer(sock, deadline) for sock in idle)
        assert closed == count
        left = _hub_sockets(pid) - baseline
        assert left <= 2, left
        assert 0 < held <= 256, held  # at most MAX_WAITING waiting for their headers
        assert rss_idle - rss_before < 100, (rss_before, rss_idle)
        with capsys.disabled():
            print(f"\n[idle] {count} idle half-requests opened; the hub held {held} sockets; "
                  f"RSS {rss_before:.1f} MB before, {rss_idle:.1f} MB with them; "
                  f"trickle closed after {sent} bytes ({trickle_seconds:.1f} s); {left} sockets left")
    finally:
        for sock in idle:
            sock.close()
    laptop.close()


def _raw_http(port: int, head: bytes, body_parts: list[bytes], *, timeout: float = 60) -> tuple[int, dict]:
    """Send a request by hand (headers, then body parts as given); return (status, JSON body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        data = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                header, _, rest = data.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in header.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(rest) >= length[0]:
                    break
        except ConnectionResetError:
            pass
    header, _, rest = data.partition(b"\r\n\r\n")
    return int(header.split()[1]), json.loads(rest)


def test_a_stalled_upload_is_cut_off_with_408(station, hubs, tmp_path):
    laptop, data = laptop_of(station, tmp_path)
    hub = hubs(station, "--request-timeout", "2")
    before = state(station)
    body = b"x" * 100_000
    headers = signed(data["device_private_key"], data["device_id"], "POST", "/api/v1/packages", body)
    head = (b"POST /api/v1/packages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/zip\r\n"
            + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
            + f"Content-Length: {len(body)}\r\n\r\n".encode())
    status, answer = _raw_http(hub.port, head, [body[:100]])  # then nothing more
    assert status == 408
    assert answer == {"error": "上传速度过慢或中途停顿，同步服务已中断这次上传；请检查网络后重试"}
    assert state(station) == before
    laptop.close()


# --- bad parameters ------------------------------------------------------------------------------

def test_a_bad_seq_is_400_not_500(station, hubs, tmp_path):
    laptop, data = laptop_of(station, tmp_path)
    key, device = data["device_private_key"], data["device_id"]
    hub = hubs(station)
    before = state(station)
    bad_seq = {"error": "批次号无效：应为不超过 9 位的非负整数"}
    for seq in ("9" * 5000, "1" * 10, "abc", "-1", "1.0", "%EF%BC%91"):  # the last: a full-width 1
        target = f"/api/v1/packages/{seq}"
        assert raw_request(hub.url, "GET", target, headers=signed(key, device, "GET", target)) == (400, bad_seq), seq
    bad_after = {"error": "参数 after 应为批次号（不超过 9 位的非负整数）"}
    for after in ("9" * 5000, "abc", "-1", "%201"):
        target = f"/api/v1/packages?after={after}"
        assert raw_request(hub.url, "GET", target, headers=signed(key, device, "GET", target)) == (400, bad_after)
    for stamp in ("9" * 5000, "１７００００００００", "1e9"):
        headers = {**signed(key, device, "GET", LISTING), sync_client.H_TIMESTAMP: stamp}
        headers[sync_client.H_TIMESTAMP] = stamp.encode("utf-8").decode("latin-1")
        assert raw_request(hub.url, "GET", LISTING, headers=headers) == (401, {"error": "请求时间戳无效，已拒绝"})
    assert state(station) == before
    laptop.close()


# --- one answer for "who are you?" -----------------------------------------------------------------

def test_unknown_device_revoked_device_and_bad_signature_get_the_same_answer(station, hubs, tmp_path, capsys):
    laptop, data = laptop_of(station, tmp_path)
    other, other_data = laptop_of(station, tmp_path, "执法笔记本2")
    gone, gone_data = laptop_of(station, tmp_path, "执法笔记本3")
    assert cli(capsys, "devices", "revoke", "--db", station.db, "--name", "执法笔记本3")[0] == 0
    hub = hubs(station)
    key, device = data["device_private_key"], data["device_id"]
    before = state(station)
    cases = {
        "unknown device": signed(key, str(uuid.uuid4()), "GET", LISTING),
        "not a device id": signed(key, "x" * 36, "GET", LISTING),
        "revoked device": signed(gone_data["device_private_key"], gone_data["device_id"], "GET", LISTING),
        "another laptop's key": signed(other_data["device_private_key"], device, "GET", LISTING),
        "signed for another path": signed(key, device, "GET", "/api/v1/packages?after=1"),
        "all-zero signature": {**signed(key, device, "GET", LISTING), sync_client.H_SIGNATURE: "0" * 128},
    }
    answers = {}
    for name, headers in cases.items():
        req = urllib.request.Request(hub.url + LISTING, headers=headers)
        try:
            urllib.request.urlopen(req, timeout=30)
            raise AssertionError(f"{name}: accepted")
        except urllib.error.HTTPError as exc:
            answers[name] = (exc.code, exc.headers.get("content-type"), exc.headers.get("content-length"), exc.read())
    assert len(answers) == 6
    body = json.dumps({"error": NOT_AUTHENTICATED}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    expected = (401, "application/json", str(len(body)), body)
    for name, answer in answers.items():
        assert answer == expected, name
    assert state(station) == before
    for ctx in (laptop, other, gone):
        ctx.close()


# --- revocation ----------------------------------------------------------------------------------

def test_a_revoked_laptop_is_refused_over_the_hub_and_by_usb(station, hubs, tmp_path, capsys, officers):
    from tests.integration.test_sync import inspect_offline

    laptop, data = laptop_of(station, tmp_path)
    hub = hubs(station)
    assert sync_client.pull(laptop, hub.url).packages == 1
    with laptop.sessions() as s:
        from db.models import Subject

        subject_id = s.query(Subject.id).filter_by(credit_code="91350100M000100Y43").scalar()
    inspect_offline(laptop, subject_id, officers, tmp_path)
    usb = tmp_path / "usb"
    usb.mkdir()
    (package,) = sync.export_packages(laptop, usb)

    code, out, err = cli(capsys, "devices", "revoke", "--db", station.db, "--device-no", "1")
    assert code == 0 and out.startswith("已吊销 执法笔记本1（设备号 1，20") and err == ""
    before = state(station)
    # the hub: push and pull both refused with the one answer, at once (no restart needed)
    with pytest.raises(InvalidInput) as refused:
        sync_client.push(laptop, hub.url, [package])
    assert refused.value.message == f"同步服务拒绝了请求（HTTP 401）：{NOT_AUTHENTICATED}"
    with pytest.raises(InvalidInput) as refused:
        sync_client.pull(laptop, hub.url)
    assert refused.value.message == f"同步服务拒绝了请求（HTTP 401）：{NOT_AUTHENTICATED}"
    target = "/api/v1/packages/1"
    assert raw_request(hub.url, "GET", target, headers=signed(data["device_private_key"], data["device_id"],
                                                               "GET", target)) == (401, {"error": NOT_AUTHENTICATED})
    # the USB stick at the station
    code, out, err = cli(capsys, "sync", "import", "--db", station.db, package)
    assert code == 2 and out == ""
    assert err.startswith(f"错误：同步包 {package.name} 来自已吊销的设备“执法笔记本1”（") and err.endswith("吊销），已拒绝\n")
    assert len(err.strip().splitlines()) == 1
    assert state(station) == before
    # no more packages are made for it
    code, out, err = cli(capsys, "sync", "export", "--db", station.db, "--out", tmp_path / "usb")
    assert code == 0 and out == ""
    # revoking twice, or a laptop that is not there: one clear line, nothing changed
    before = state(station)
    code, _, err = cli(capsys, "devices", "revoke", "--db", station.db, "--name", "执法笔记本1")
    assert code == 2 and err.startswith("错误：设备“执法笔记本1”已于 20") and err.endswith("吊销\n")
    code, _, err = cli(capsys, "devices", "revoke", "--db", station.db, "--name", "没有这台")
    assert (code, err) == (2, "错误：本所没有登记名为“没有这台”的设备（devices list 列出已登记的设备）\n")
    code, _, err = cli(capsys, "devices", "revoke", "--db", station.db, "--id", str(uuid.uuid4()))
    assert code == 2 and err.startswith("错误：本所没有登记设备 ")
    code, _, err = cli(capsys, "devices", "revoke", "--db", station.db)
    assert (code, err) == (2, "错误：请用 --name、--id 或 --device-no 指明要吊销的设备\n")
    assert state(station) == before
    code, out, _ = cli(capsys, "devices", "list", "--db", station.db)
    assert code == 0 and out.startswith(f"1\t执法笔记本1\t{data['device_id']}\t已吊销 20")
    laptop.close()


def test_device_numbers_are_never_reused(station, tmp_path, capsys):
    from db.models import Device

    first, second, third = (sync.add_device(station.ctx, f"执法笔记本{n}") for n in (1, 2, 3))
    with station.ctx.transaction() as s:
        s.delete(s.get(Device, third["device_id"]))
    assert cli(capsys, "devices", "revoke", "--db", station.db, "--name", "执法笔记本2")[0] == 0
    code, out, _ = cli(capsys, "devices", "add", "--db", station.db, "--name", "执法笔记本4",
                       "--out", tmp_path / "four.json")
    assert code == 0 and out.startswith("已登记 执法笔记本4（设备号 4）")
    # the revoked name stays taken (its row stays, so its number is never given out again)
    before = state(station)
    code, _, err = cli(capsys, "devices", "add", "--db", station.db, "--name", "执法笔记本2",
                       "--out", tmp_path / "two.json")
    assert (code, err) == (2, "错误：设备“执法笔记本2”已吊销，不能再用这个名称登记，请换一个名称\n")
    assert state(station) == before and not (tmp_path / "two.json").exists()
    assert sorted(d.device_no for d in sync.list_devices(station.ctx)) == [1, 2, 4]


def test_only_the_admin_may_register_or_revoke_devices(station, tmp_path):
    data = sync.add_device(station.ctx, "执法笔记本1")
    add_user(station.ctx, name="管理员", role="admin", password="secret123")
    add_user(station.ctx, name="王建国", role="inspector", password="secret123", cert_no="41170021001")
    add_user(station.ctx, name="赵网格", role="grid_worker", password="secret123", grid="测试社区")
    before = state(station)
    for name, role in (("王建国", "执法人员"), ("赵网格", "网格员")):
        ctx = AppContext.open(station.db, attachments_dir=station.data_dir / "attachments")
        log_in(ctx, name, "secret123")
        with pytest.raises(PermissionDenied) as denied:
            sync.revoke_device(ctx, data["device_id"])
        assert denied.value.message == f"{role}{name}无权登记或吊销同步设备"
        with pytest.raises(PermissionDenied) as denied:
            sync.add_device(ctx, "执法笔记本9", tmp_path / "nine.json")
        assert denied.value.message == f"{role}{name}无权登记或吊销同步设备"
        ctx.close()
    assert not (tmp_path / "nine.json").exists()
    after = state(station)
    assert after[1:] == before[1:]
    # only log-in bookkeeping (users.failed_logins etc.) may differ: the devices did not change
    assert [d.revoked for d in sync.list_devices(station.ctx)] == [False]
    assert len(sync.list_devices(station.ctx)) == 1
    admin = AppContext.open(station.db, attachments_dir=station.data_dir / "attachments")
    log_in(admin, "管理员", "secret123")
    assert sync.revoke_device(admin, data["device_id"]).revoked
    admin.close()


# --- a 500 tells nothing ------------------------------------------------------------------------------

def _asgi(app, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
    """One request straight into the ASGI app (no server, no httpx): (status, body)."""
    path, _, query = target.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "server": ("127.0.0.1", 8765), "client": ("127.0.0.1", 40000),
             "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}
    sent: list[dict] = []
    given = False

    async def receive():
        nonlocal given
        if given:
            await asyncio.sleep(3600)
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_an_unexpected_error_answers_500_without_its_text(station, tmp_path, monkeypatch, caplog):
    from hub.app import INTERNAL_ERROR, create_app
    from hub.service import Hub

    laptop, data = laptop_of(station, tmp_path)
    hub = Hub(station.ctx, station.data_dir / "hub-outbox")
    secret = "连接串 postgresql://yxjc:s3cret@db-host/yxjc 与 /etc/yxjc/hub.key"

    def broken(*_args, **_kwargs):
        raise RuntimeError(secret)

    monkeypatch.setattr(hub, "export_for", broken)
    app = create_app(hub)
    with caplog.at_level(logging.ERROR, logger="hub"):
        status, body = _asgi(app, "GET", LISTING, signed(data["device_private_key"], data["device_id"], "GET", LISTING))
    assert status == 500
    assert json.loads(body) == {"error": INTERNAL_ERROR}
    for leak in ("RuntimeError", "s3cret", "hub.key", "Traceback"):
        assert leak.encode() not in body
    # the traceback, with the detail, is in the hub's log
    records = [r for r in caplog.records if r.name == "hub"]
    assert len(records) == 1 and records[0].exc_info is not None
    assert secret in caplog.text and "Traceback" in caplog.text
    laptop.close()


def test_a_station_database_that_cannot_be_written_is_answered_without_its_path(station, tmp_path, caplog):
    """The station's database refuses every write while a laptop's pull exports (SQLite's own refusal,
    as for a file made read-only; a full disk takes the same path): the laptop is told that nothing was
    written, and not where the station keeps its database — the hub's log has that. Fault before: 400
    with the database's own line, which ended with the file's full path on the station's PC."""
    from hub.app import create_app
    from hub.service import HUB_DATABASE, Hub

    laptop, data = laptop_of(station, tmp_path)
    hub = Hub(station.ctx, station.data_dir / "hub-outbox")
    pool = station.ctx.engine.pool

    def read_only(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    before = state(station)
    event.listen(pool, "checkout", read_only)
    try:
        with caplog.at_level(logging.ERROR, logger="hub"):
            status, body = _asgi(create_app(hub), "GET", LISTING,
                                 signed(data["device_private_key"], data["device_id"], "GET", LISTING))
    finally:
        event.remove(pool, "checkout", read_only)
        station.ctx.engine.dispose()  # the refusing connections are not used again
    assert status == 500
    message = json.loads(body)["error"]
    assert message == f"数据库文件只读，无法写入：{HUB_DATABASE}"
    for leak in (station.db, Path(station.db).name, str(tmp_path)):
        assert leak.encode() not in body
    assert state(station) == before
    assert station.db in caplog.text  # the station's admin reads where in the hub's log
    laptop.close()


def test_a_refusal_naming_a_station_folder_tells_the_laptop_no_path(station, tmp_path, caplog, officers):
    """A laptop's package with photos arrives while the station's attachments folder cannot be made
    (a file stands in its place): the import is refused, nothing written, and the laptop is told why
    without the station's folder names — the hub's log has them. Fault before: the answer said
    "无法写入附件目录 /home/…/attachments（File exists）", the station's own layout."""
    from hub.app import create_app
    from hub.service import HUB_FOLDER, Hub
    from tests.integration.test_sync import inspect_offline, pull_master_data

    laptop, data = laptop_of(station, tmp_path)
    pull_master_data(station.ctx, laptop, tmp_path / "down")
    with laptop.sessions() as s:
        from db.models import Subject

        subject_id = s.query(Subject.id).filter_by(credit_code="91350100M000100Y43").scalar()
    inspect_offline(laptop, subject_id, officers, tmp_path)
    (tmp_path / "up").mkdir()
    [package] = sync.export_packages(laptop, tmp_path / "up")
    blocked = station.data_dir / "照片与签名"
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_bytes(b"not a folder")
    station.ctx.attachments_dir = blocked
    hub = Hub(station.ctx, station.data_dir / "hub-outbox")
    body = package.read_bytes()
    target = "/api/v1/packages"
    with caplog.at_level(logging.WARNING, logger="hub"):
        status, answer = _asgi(create_app(hub), "POST", target,
                               signed(data["device_private_key"], data["device_id"], "POST", target, body), body)
    assert status == 400
    message = json.loads(answer)["error"]
    assert message.startswith(f"无法写入附件目录 {HUB_FOLDER}") and message.endswith("未导入任何内容")
    for leak in (str(blocked), "照片与签名", str(tmp_path), str(station.data_dir)):
        assert leak.encode() not in answer
    with station.ctx.sessions() as s:  # nothing imported (the request's nonce is kept, as for any signed one)
        from db.models import Inspection

        assert s.query(Inspection).count() == 0
        assert s.query(SyncBatch).filter_by(direction="in").count() == 0
    assert blocked.read_bytes() == b"not a folder"
    assert str(blocked) in caplog.text  # the station's admin reads where in the hub's log
    laptop.close()
