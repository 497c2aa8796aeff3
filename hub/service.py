"""The hub's state and work: who signed a request, bounded bodies, imports and exports one at a time.

The HTTP routes over it are in ``hub.app``. Endpoints (docs/sync-format.md "HTTP hub"):

* ``POST /api/v1/packages`` — body: one package (.zip) from the requesting laptop;
  verified and imported exactly like ``sync import``; answers the import summary.
* ``GET /api/v1/packages?after=N`` — exports the station's batch for the laptop (as
  ``sync export`` would) once it has acknowledged every package sent before, and lists
  its packages with seq > N.
* ``GET /api/v1/packages/{seq}`` — one of those packages.

Every request is signed by a registered, not revoked, device
(``core.sync.client.signing_text``) and accepted once: its signature and nonce are kept in
the station's database (``core.sync.replay``) for the clock window, across restarts. An
unknown device, a revoked one and a bad signature get the same answer (401, one message),
so the answer does not tell whether a device id exists. Errors are JSON
``{"error": "<Chinese message>"}`` with 400/401/403/404/408/409/413, 500 and 503 (``hub.app``).
Imports and exports run one at a time, each one transaction: a hub killed mid-request
leaves the database as it was before that request.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from core import sync
from core.context import AppContext
from core.sync import DeviceRow
from core.signing import new_key_pair, signature_ok
from core.errors import InvalidInput
from core.sync.client import (
    H_DEVICE, H_NONCE, H_SIGNATURE, H_TIMESTAMP, MAX_PULL, MAX_SKEW_SECONDS, SAFE_PACKAGE_NAME, signing_text,
)

DEFAULT_MAX_UPLOAD_MB = 64
# Uploads admitted at once (the one importing and those verified and waiting for it); one more is told
# to come back (503, Retry-After) once it is authenticated, before its package is verified or imported.
# Without the bound a slow hub (many laptops, a loaded server) queues every upload, the laptops' requests
# time out and are sent again while the hub still verifies and imports the abandoned ones: measured with
# 40 laptops on PostgreSQL, the backlog reached uvicorn's 384 and one package in 16 minutes was answered
# (docs/performance.md "Sync under load").
DEFAULT_MAX_PENDING_PUSHES = 4
RETRY_AFTER_SECONDS = 2
BUSY = "同步服务正忙（同时上传的同步包较多），请稍后重试；笔记本会自动重试"
HUB_DATABASE = "同步服务的数据库（详见同步服务的日志）"  # in a storage failure's line, for its file or URL
HUB_FOLDER = "［所里电脑上的文件夹，详见同步服务的日志］"  # for a station's path in a refusal's line
# the database held by another writer (``core.errors.Busy``); not the database's own message, which names its file
DATABASE_BUSY = "同步服务的数据库正忙（另一个程序正在写入），未写入任何内容，请稍后重试；笔记本会自动重试"
DEFAULT_REQUEST_TIMEOUT = 15  # seconds: for a request's headers, and between two parts of its body
BODY_MIN_RATE = 16 * 1024  # bytes per second, on average, once the first 2 × timeout have passed
_SEQ_IN_NAME = re.compile(r"-(\d+)\.zip$")
_NONCE = re.compile(r"[0-9a-f]{32}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{128}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_DEVICE_ID = re.compile(r"[0-9a-f-]{36}")
SEQ = re.compile(r"[0-9]{1,9}")

# One answer for every request that no registered, active device signed (unknown device,
# revoked device, wrong key, changed content): it must not tell which of these it was.
NOT_AUTHENTICATED = ("请求未通过设备验证（设备未在本所登记或已被吊销，或签名无效、内容被改动），已拒绝；"
                     "请在所里的电脑确认本机的登记（devices list）")
REPLAYED = "重复的请求（同一签名或随机数已使用过），已拒绝"


class HubError(Exception):
    """A refused request: HTTP status and the Chinese message for the JSON body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Hub:
    """State of one running hub: the station's context, its outbox, limits, the replay guard."""

    def __init__(self, ctx: AppContext, outbox: Path, *, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
                 request_timeout: float = DEFAULT_REQUEST_TIMEOUT, clock=time.time,
                 max_pending_pushes: int = DEFAULT_MAX_PENDING_PUSHES):
        if sync.role(ctx) != "station":
            raise InvalidInput("这个数据库不是所里的电脑：请先在所里的数据库登记笔记本（devices add），再启动同步服务")
        self.ctx = ctx
        self.outbox = Path(outbox)
        self.outbox.mkdir(parents=True, exist_ok=True)
        self.max_upload = max(int(max_upload_mb * 1024 * 1024), 1)
        self.max_upload_mb = max_upload_mb
        self.request_timeout = request_timeout
        self.clock = clock
        self.lock = threading.Lock()  # one import, export or replay check at a time (one station database)
        self.max_pending_pushes = max_pending_pushes
        self.pending_pushes = 0  # changed only on the event loop (hub.app), so no lock
        # checked instead when the device is unknown, so that case costs the same work as a bad signature
        self._decoy_key = new_key_pair()[1]

    def without_paths(self, message: str) -> str:
        """``message`` for a laptop: the station's own folders and database file (the attachments, the
        outbox, the temp folder, the database), which a refusal's line may name, as one neutral word.
        The station's admin reads the full line in the hub's log."""
        places = {self.ctx.where, str(self.ctx.attachments_dir), str(self.outbox), tempfile.gettempdir()}
        for place in sorted(places, key=len, reverse=True):
            for spelled in {place, str(Path(place).resolve())}:
                if len(spelled) > 1:
                    message = message.replace(spelled, HUB_FOLDER)
        return message

    # --- authentication ---------------------------------------------------------------

    def _device(self, device_id: str) -> DeviceRow | None:
        return sync.find_device(self.ctx, device_id) if _DEVICE_ID.fullmatch(device_id) else None

    async def authenticate(self, request: Request, *, read_body: bool) -> tuple[DeviceRow, bytes]:
        """The registered device that signed this request, and the request body (bounded)."""
        device_id = request.headers.get(H_DEVICE, "")
        timestamp = request.headers.get(H_TIMESTAMP, "")
        nonce = request.headers.get(H_NONCE, "")
        signature = request.headers.get(H_SIGNATURE, "")
        if not (device_id and timestamp and nonce and signature):
            raise HubError(401, f"请求缺少设备签名（{H_DEVICE}、{H_TIMESTAMP}、{H_NONCE}、{H_SIGNATURE}），已拒绝")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise HubError(401, "请求时间戳无效，已拒绝")
        if abs(self.clock() - int(timestamp)) > MAX_SKEW_SECONDS:
            raise HubError(401, f"请求时间与所里电脑相差超过 {MAX_SKEW_SECONDS // 60} 分钟（或请求被重放），"
                                "已拒绝；请校对笔记本的时间后重试")
        if not _NONCE.fullmatch(nonce):
            raise HubError(401, f"请求头 {H_NONCE} 应为 32 位十六进制小写字符，已拒绝")
        body = await self._body(request) if read_body else b""
        device = await run_in_threadpool(self._device, device_id)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        text = signing_text(request.method, target, timestamp, nonce, body)
        raw = bytes.fromhex(signature) if _SIGNATURE.fullmatch(signature) else b"\0" * 64
        genuine = device is not None and not device.revoked
        if not signature_ok(device.public_key if genuine else self._decoy_key, text, raw) or not genuine:
            raise HubError(401, NOT_AUTHENTICATED)
        if not await run_in_threadpool(self._claim, device.id, nonce, raw, int(timestamp)):
            raise HubError(401, REPLAYED)
        return device, body

    def _claim(self, device_id: str, nonce: str, signature: bytes, timestamp: int) -> bool:
        with self.lock:
            return sync.claim_request(self.ctx, device_id, nonce, signature, timestamp,
                                      now=self.clock(), window=MAX_SKEW_SECONDS)

    async def _body(self, request: Request) -> bytes:
        """The body, at most ``max_upload`` bytes, refused (408) if it comes too slowly.

        Each part must arrive within the request timeout of the one before, and after a
        grace of twice that the average rate must stay above BODY_MIN_RATE: a client that
        trickles a byte now and then cannot hold a connection for long.
        """
        too_big = HubError(413, f"上传的同步包超过同步服务的上限 {self.max_upload_mb:g} MB，已拒绝；"
                                "请用较小的 --max-mb 导出（分成多个包）后再上传")
        too_slow = HubError(408, "上传速度过慢或中途停顿，同步服务已中断这次上传；请检查网络后重试")
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isascii() or not declared.isdigit():
                raise HubError(400, "请求头 Content-Length 无效")
            if int(declared) > self.max_upload:
                raise too_big
        loop = asyncio.get_running_loop()
        started = loop.time()
        chunks, size = [], 0
        stream = request.stream()
        try:
            while True:
                floor = started + 2 * self.request_timeout + size / BODY_MIN_RATE
                wait = min(self.request_timeout, floor - loop.time())
                if wait <= 0:
                    raise too_slow
                try:
                    chunk = await asyncio.wait_for(stream.__anext__(), wait)
                except StopAsyncIteration:
                    break
                except asyncio.TimeoutError:
                    raise too_slow from None
                size += len(chunk)
                if size > self.max_upload:
                    raise too_big
                chunks.append(chunk)
        except ClientDisconnect:
            raise HubError(400, "上传中途断开，已放弃这次上传") from None
        finally:
            await stream.aclose()
        return b"".join(chunks)

    # --- push -------------------------------------------------------------------------------

    def admit_push(self) -> bool:
        """Room for one more upload (called on the event loop); ``release_push`` when it is answered."""
        if self.pending_pushes >= self.max_pending_pushes:
            return False
        self.pending_pushes += 1
        return True

    def release_push(self) -> None:
        self.pending_pushes -= 1

    def import_upload(self, device: DeviceRow, body: bytes, name: str) -> dict[str, Any]:
        if not body:
            raise HubError(400, "请求中没有同步包")
        name = name if SAFE_PACKAGE_NAME.match(name or "") else "upload.zip"
        with tempfile.TemporaryDirectory(prefix="yxjc-hub-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(body)
            pkg = sync.read_package(self.ctx, path)  # all checks, no database change
            if pkg.manifest.get("device_id") != device.id:
                raise HubError(403, f"同步包 {name} 不是由发出请求的设备签发的，已拒绝")
            with self.lock:
                try:
                    summary = sync.import_package(self.ctx, path, package=pkg)
                except InvalidInput as exc:
                    if isinstance(exc.__cause__, IntegrityError) or self._seq_taken(pkg):
                        raise HubError(409, exc.message) from exc
                    raise
        return {"seq": int(pkg.manifest["seq"]), **summary.as_dict()}

    def _seq_taken(self, pkg: sync.Package) -> bool:
        """The batch seq was imported before with other content (a conflict, not bad input)."""
        seen = sync.received_batch(self.ctx, pkg.manifest["device_id"], int(pkg.manifest["seq"]))
        return seen is not None and seen != pkg.sha256

    # --- pull --------------------------------------------------------------------------------

    def _folder(self, device: DeviceRow) -> Path:
        folder = self.outbox / device.id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _stored(self, device: DeviceRow) -> dict[int, Path]:
        found = {}
        for path in self._folder(device).glob("*.zip"):
            match = _SEQ_IN_NAME.search(path.name)
            if match:
                found[int(match.group(1))] = path
        return found

    def export_for(self, device: DeviceRow, after: int) -> list[dict[str, Any]]:
        """List this laptop's packages with seq > ``after``; export a new batch only when it is due.

        Packages the laptop has acknowledged (through its uploads) are removed from the
        outbox. While any package sent is still unacknowledged, nothing new is exported —
        the pending ones are listed again — so repeated GETs do not fill the outbox: it
        holds at most one export (one or more packages, by size) per laptop.
        """
        with self.lock:
            acked = sync.acked_seq(self.ctx, device.id)
            stored = self._stored(device)
            for seq, path in stored.items():
                if seq <= acked:
                    path.unlink(missing_ok=True)
            if not any(seq > acked for seq in stored):
                sync.export_packages(self.ctx, self._folder(device), peer=device.id)
            out = []
            for seq, path in sorted(self._stored(device).items()):
                if seq > after and len(out) < MAX_PULL:
                    data = path.read_bytes()
                    out.append({"seq": seq, "name": path.name, "size": len(data),
                                "sha256": hashlib.sha256(data).hexdigest()})
        return out

    def package(self, device: DeviceRow, seq: int) -> bytes:
        path = self._stored(device).get(seq)
        if path is None:
            raise HubError(404, f"没有发给本机的第 {seq} 批同步包（可能已确认接收并清理），请重新同步")
        return path.read_bytes()
