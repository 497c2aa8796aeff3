"""The hub's state and work: who signed a request, bounded bodies, imports and exports one at a time.

The HTTP routes over it are in ``hub.app``. Endpoints (docs/sync-format.md "HTTP hub"):

* ``POST /api/v1/packages`` — body: one package (.zip) from the requesting laptop;
  verified and imported exactly like ``sync import``; answers the import summary.
* ``GET /api/v1/packages?after=N`` — exports the station's batch for the laptop (as
  ``sync export`` would) and lists its packages with seq > N.
* ``GET /api/v1/packages/{seq}`` — one of those packages.

Every request is signed by a registered device (``core.sync.client.signing_text``);
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

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from core import sync
from core.context import AppContext
from core.sync import DeviceRow
from core.sync.keys import signature_ok
from core.errors import InvalidInput
from core.sync.client import (
    H_DEVICE, H_NONCE, H_SIGNATURE, H_TIMESTAMP, MAX_SKEW_SECONDS, SAFE_PACKAGE_NAME, signing_text,
)

DEFAULT_MAX_UPLOAD_MB = 64
_SEQ_IN_NAME = re.compile(r"-(\d+)\.zip$")


class HubError(Exception):
    """A refused request: HTTP status and the Chinese message for the JSON body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _verify(public_hex: str, data: bytes, signature_hex: str) -> bool:
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    return signature_ok(public_hex, data, signature)


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

    def _device(self, device_id: str) -> DeviceRow | None:
        return sync.find_device(self.ctx, device_id)

    async def authenticate(self, request: Request, *, read_body: bool) -> tuple[DeviceRow, bytes]:
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
        """Export the station's batch for this laptop; list its packages with seq > ``after``.

        Packages the laptop has acknowledged are removed from the outbox; the others stay
        (a download lost on the way is fetched again).
        """
        with self.lock:
            sync.export_packages(self.ctx, self._folder(device), peer=device.id)
            acked = sync.acked_seq(self.ctx, device.id)
            out = []
            for seq, path in sorted(self._stored(device).items()):
                if seq <= acked and seq <= after:
                    path.unlink(missing_ok=True)
                elif seq > after:
                    data = path.read_bytes()
                    out.append({"seq": seq, "name": path.name, "size": len(data),
                                "sha256": hashlib.sha256(data).hexdigest()})
        return out

    def package(self, device: DeviceRow, seq: int) -> bytes:
        path = self._stored(device).get(seq)
        if path is None:
            raise HubError(404, f"没有发给本机的第 {seq} 批同步包（可能已确认接收并清理），请重新同步")
        return path.read_bytes()
