"""The station's sync hub: the batch packages of ``core.sync`` over HTTP on the local network.

``main.py hub --db URL --host H --port P`` serves this Starlette app with uvicorn. The
database is the station's: an SQLite file for one station, or PostgreSQL for a county or
city hub. Endpoints (docs/sync-format.md "HTTP hub"):

* ``POST /api/v1/packages`` — body: one package (.zip) from the requesting laptop;
  verified and imported exactly like ``sync import``; answers the import summary.
* ``GET /api/v1/packages?after=N`` — exports the station's batch for the laptop (as
  ``sync export`` would) and lists its packages with seq > N.
* ``GET /api/v1/packages/{seq}`` — one of those packages.

Every request is signed by a registered device (``core.sync_client.signing_text``);
errors are JSON ``{"error": "<Chinese message>"}`` with 400/401/403/404/409/413.
Imports and exports run one at a time, each one transaction: a hub killed mid-request
leaves the database as it was before that request.
"""
from __future__ import annotations

import hashlib
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import sync
from core.context import AppContext
from core.errors import DomainError, InvalidInput
from core.sync_client import (
    API, H_DEVICE, H_NAME, H_NONCE, H_SIGNATURE, H_TIMESTAMP, MAX_SKEW_SECONDS, signing_text,
)
from db.models import Device, SyncBatch, SyncPeer

DEFAULT_MAX_UPLOAD_MB = 64
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,120}\.zip$")
_SEQ_IN_NAME = re.compile(r"-(\d+)\.zip$")


class HubError(Exception):
    """A refused request: HTTP status and the Chinese message for the JSON body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _verify(public_hex: str, data: bytes, signature_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(bytes.fromhex(signature_hex), data)
    except (InvalidSignature, ValueError):
        return False
    return True


class Hub:
    """State of one running hub: the station's context, its outbox, limits, the replay guard."""

    def __init__(self, ctx: AppContext, outbox: Path, *, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
                 clock=time.time):
        if sync.role(ctx) != "station":
            raise InvalidInput("这个数据库不是所里的电脑：请先在所里的数据库登记笔记本（devices add），再启动同步服务")
        self.ctx = ctx
        self.outbox = Path(outbox)
        self.outbox.mkdir(parents=True, exist_ok=True)
        self.max_upload = max(int(max_upload_mb * 1024 * 1024), 1)
        self.max_upload_mb = max_upload_mb
        self.clock = clock
        self.lock = threading.Lock()  # one import or export at a time (one station database)
        self._seen: dict[str, float] = {}  # signatures already used, until they expire
        self._seen_lock = threading.Lock()

    # --- authentication ---------------------------------------------------------------

    def _device(self, device_id: str) -> Device | None:
        with self.ctx.sessions() as s:
            return s.get(Device, device_id)

    async def authenticate(self, request: Request, *, read_body: bool) -> tuple[Device, bytes]:
        """The registered device that signed this request, and the request body (bounded)."""
        device_id = request.headers.get(H_DEVICE, "")
        timestamp = request.headers.get(H_TIMESTAMP, "")
        nonce = request.headers.get(H_NONCE, "")
        signature = request.headers.get(H_SIGNATURE, "")
        if not (device_id and timestamp and nonce and signature):
            raise HubError(401, f"请求缺少设备签名（{H_DEVICE}、{H_TIMESTAMP}、{H_NONCE}、{H_SIGNATURE}），已拒绝")
        device = await run_in_threadpool(self._device, device_id)
        if device is None:
            raise HubError(403, "该设备未在本所登记，已拒绝；请在所里的电脑登记（devices add）")
        try:
            age = abs(self.clock() - int(timestamp))
        except ValueError:
            raise HubError(401, "请求时间戳无效，已拒绝") from None
        if age > MAX_SKEW_SECONDS:
            raise HubError(401, f"请求时间与所里电脑相差超过 {MAX_SKEW_SECONDS // 60} 分钟（或请求被重放），"
                                "已拒绝；请校对笔记本的时间后重试")
        body = await self._body(request) if read_body else b""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if not _verify(device.public_key, signing_text(request.method, target, timestamp, nonce, body), signature):
            raise HubError(401, "请求签名无效（不是由登记的设备密钥签发，或内容被改动），已拒绝")
        self._not_replayed(signature, int(timestamp))
        return device, body

    def _not_replayed(self, signature: str, timestamp: int) -> None:
        now = self.clock()
        with self._seen_lock:
            for key in [k for k, t in self._seen.items() if abs(now - t) > MAX_SKEW_SECONDS]:
                del self._seen[key]
            if signature in self._seen:
                raise HubError(401, "重复的请求（同一签名已使用过），已拒绝")
            self._seen[signature] = timestamp

    async def _body(self, request: Request) -> bytes:
        too_big = HubError(413, f"上传的同步包超过同步服务的上限 {self.max_upload_mb:g} MB，已拒绝；"
                                "请用较小的 --max-mb 导出（分成多个包）后再上传")
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > self.max_upload:
                    raise too_big
            except ValueError:
                raise HubError(400, "请求头 Content-Length 无效") from None
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_upload:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)

    # --- push -------------------------------------------------------------------------------

    def import_upload(self, device: Device, body: bytes, name: str) -> dict[str, Any]:
        if not body:
            raise HubError(400, "请求中没有同步包")
        name = name if _SAFE_NAME.match(name or "") else "upload.zip"
        with tempfile.TemporaryDirectory(prefix="yxjc-hub-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(body)
            pkg = sync.read_package(self.ctx, path)  # all checks, no database change
            if pkg.manifest.get("device_id") != device.id:
                raise HubError(403, f"同步包 {name} 不是由发出请求的设备签发的，已拒绝")
            with self.lock:
                try:
                    summary = sync.import_package(self.ctx, path)
                except InvalidInput as exc:
                    if isinstance(exc.__cause__, IntegrityError) or self._seq_taken(pkg):
                        raise HubError(409, exc.message) from exc
                    raise
        return {"seq": int(pkg.manifest["seq"]), **summary.as_dict()}

    def _seq_taken(self, pkg: sync.Package) -> bool:
        """The batch seq was imported before with other content (a conflict, not bad input)."""
        with self.ctx.sessions() as s:
            seen = s.scalar(select(SyncBatch.sha256).filter_by(
                direction="in", peer_id=pkg.manifest["device_id"], seq=int(pkg.manifest["seq"])))
        return seen is not None and seen != pkg.sha256

    # --- pull --------------------------------------------------------------------------------

    def _folder(self, device: Device) -> Path:
        folder = self.outbox / device.id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _stored(self, device: Device) -> dict[int, Path]:
        found = {}
        for path in self._folder(device).glob("*.zip"):
            match = _SEQ_IN_NAME.search(path.name)
            if match:
                found[int(match.group(1))] = path
        return found

    def export_for(self, device: Device, after: int) -> list[dict[str, Any]]:
        """Export the station's batch for this laptop; list its packages with seq > ``after``.

        Packages the laptop has acknowledged are removed from the outbox; the others stay
        (a download lost on the way is fetched again).
        """
        with self.lock:
            sync.export_packages(self.ctx, self._folder(device), peer=device.id)
            with self.ctx.sessions() as s:
                acked = s.scalar(select(SyncPeer.acked_seq).where(SyncPeer.peer_id == device.id)) or 0
            out = []
            for seq, path in sorted(self._stored(device).items()):
                if seq <= acked and seq <= after:
                    path.unlink(missing_ok=True)
                elif seq > after:
                    data = path.read_bytes()
                    out.append({"seq": seq, "name": path.name, "size": len(data),
                                "sha256": hashlib.sha256(data).hexdigest()})
        return out

    def package(self, device: Device, seq: int) -> bytes:
        path = self._stored(device).get(seq)
        if path is None:
            raise HubError(404, f"没有发给本机的第 {seq} 批同步包（可能已确认接收并清理），请重新同步")
        return path.read_bytes()


def create_app(hub: Hub) -> Starlette:
    """The ASGI application of one hub."""

    async def guarded(request: Request, handler) -> Response:
        try:
            return await handler(request)
        except HubError as exc:
            return _error(exc.status, exc.message)
        except DomainError as exc:
            return _error(400, exc.message)

    async def push(request: Request) -> Response:
        async def run(req: Request) -> Response:
            device, body = await hub.authenticate(req, read_body=True)
            result = await run_in_threadpool(hub.import_upload, device, body, req.headers.get(H_NAME, ""))
            return JSONResponse(result)
        return await guarded(request, run)

    async def listing(request: Request) -> Response:
        async def run(req: Request) -> Response:
            device, _ = await hub.authenticate(req, read_body=False)
            try:
                after = int(req.query_params.get("after", "0"))
            except ValueError:
                raise HubError(400, "参数 after 应为批次号（整数）") from None
            packages = await run_in_threadpool(hub.export_for, device, after)
            return JSONResponse({"station_id": hub.ctx.setting(sync.S_STATION_ID), "packages": packages})
        return await guarded(request, run)

    async def download(request: Request) -> Response:
        async def run(req: Request) -> Response:
            device, _ = await hub.authenticate(req, read_body=False)
            data = await run_in_threadpool(hub.package, device, int(req.path_params["seq"]))
            return Response(data, media_type="application/zip")
        return await guarded(request, run)

    async def http_error(_request: Request, exc: HTTPException) -> Response:
        messages = {404: "没有这个接口", 405: "不支持这种请求方法"}
        return _error(exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    async def unexpected(_request: Request, exc: Exception) -> Response:
        return _error(500, f"同步服务内部错误：{type(exc).__name__}: {exc}")

    routes = [
        Route(f"{API}/packages", push, methods=["POST"]),
        Route(f"{API}/packages", listing, methods=["GET"]),
        Route(API + "/packages/{seq:int}", download, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: unexpected})


def default_outbox(ctx: AppContext) -> Path:
    """Where the hub keeps the packages it has exported for laptops, beside the attachments."""
    return ctx.attachments_dir.parent / f"{ctx.attachments_dir.name.removesuffix('-attachments')}-hub-outbox"


def serve(ctx: AppContext, host: str, port: int, *, outbox: Path | None = None,
          max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, ready=None) -> None:
    """Run the hub until interrupted (Ctrl+C / SIGTERM)."""
    import uvicorn

    hub = Hub(ctx, outbox or default_outbox(ctx), max_upload_mb=max_upload_mb)
    config = uvicorn.Config(create_app(hub), host=host, port=port, log_level="info",
                            timeout_keep_alive=5, timeout_graceful_shutdown=5, access_log=True)
    server = uvicorn.Server(config)
    if ready is not None:
        ready(hub)
    server.run()
