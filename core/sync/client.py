"""The laptop side of the HTTP hub (docs/sync-format.md "HTTP hub").

The same signed packages as the USB/folder transport, carried over HTTP to the station's
hub (``main.py hub``): ``push`` exports this laptop's batch and uploads it, ``pull``
downloads the station's packages addressed to this laptop and imports them. With no
network, ``main.py sync export/import`` and a USB stick remain.

Every request is signed with the laptop's device key (Ed25519), see ``signing_text``.
Only the standard library talks HTTP here (urllib), so a laptop needs no web framework.
This module also holds the protocol constants the hub (``hub``) checks against.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core.errors import InvalidInput
from core.sync.apply import import_package
from core.sync.devices import identity_for, private_key, role, upstream
from core.sync.export import export_packages
from core.sync.spec import DEFAULT_MAX_MB, S_STATION_DEVICE
from db.models import SyncPeer

if TYPE_CHECKING:
    from core.context import AppContext

API = "/api/v1"
H_DEVICE, H_TIMESTAMP, H_NONCE, H_SIGNATURE = "X-Device-Id", "X-Timestamp", "X-Nonce", "X-Signature"
H_NAME = "X-Package-Name"
MAX_SKEW_SECONDS = 300  # a request older (or newer) than this is refused
TIMEOUT_SECONDS = 60
BUSY_RETRIES = 40  # a hub that answers 503 (busy, Retry-After) is asked again, this many times at most (push and pull)
MAX_RETRY_AFTER = 30  # seconds: a longer Retry-After is not waited for
MAX_PULL = 1000  # packages per pull, a bound on the loop
# A package name from the other side is used as a file name only if it looks like ours.
SAFE_PACKAGE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,120}\.zip$")


def signing_text(method: str, target: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What a request's X-Signature signs: method, path with query, timestamp, nonce, SHA-256 of the body.

    One line each, UTF-8: ``POST\\n/api/v1/packages\\n1764061200\\n<32 hex nonce>\\n<64 hex>``.
    The nonce makes two identical requests in the same second differ (Ed25519 is
    deterministic), so the hub can refuse a replayed signature.
    """
    return "\n".join([method.upper(), target, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode("utf-8")


def sign_request(private_hex: str, method: str, target: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The authentication headers (all but X-Device-Id) for one request."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))
    return {H_TIMESTAMP: timestamp, H_NONCE: nonce,
            H_SIGNATURE: key.sign(signing_text(method, target, timestamp, nonce, body)).hex()}


@dataclass
class HubResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class HubSummary:
    """What a push or a pull did: per-package import summaries, merged."""

    packages: int = 0
    applied: int = 0
    unchanged: int = 0
    conflicts: int = 0
    already_imported: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)

    def add(self, one: dict[str, Any]) -> None:
        self.packages += 1
        self.applied += int(one.get("applied", 0))
        self.unchanged += int(one.get("unchanged", 0))
        self.conflicts += int(one.get("conflicts", 0))
        self.already_imported += 1 if one.get("already_imported") else 0
        self.details.append(one)

    def as_dict(self) -> dict[str, Any]:
        return {"packages": self.packages, "applied": self.applied, "unchanged": self.unchanged,
                "conflicts": self.conflicts, "already_imported": self.already_imported, "details": self.details}


class HubClient:
    """Signed requests to one hub as one device."""

    def __init__(self, url: str, device_id: str, private_key: str, *, timeout: float = TIMEOUT_SECONDS, sleep=time.sleep):
        parsed = urllib.parse.urlsplit(url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput(f"同步服务地址无效：{url}（应为 http://主机:端口）")
        self.base = f"{parsed.scheme}://{parsed.netloc}{parsed.path.rstrip('/')}"
        self.prefix = parsed.path.rstrip("/")
        self.device_id = device_id
        self.private_key = private_key
        self.timeout = timeout
        self.sleep = sleep
        self.busy_retries = 0  # 503 answers waited out, over this client's life

    @classmethod
    def for_laptop(cls, ctx: AppContext, url: str) -> HubClient:
        """As this laptop to its station's hub, or as this station to its county's (docs/levels.md)."""
        above = upstream(ctx)
        if above is not None:
            _station, me, key = identity_for(ctx, above[0])
            return cls(url, me, key)
        if role(ctx) != "device":
            raise InvalidInput("本机不是已登记的笔记本，也未登记到上级：请先用上级给的登记文件加入（devices enrol）")
        return cls(url, ctx.device_id, private_key(ctx))

    def request(self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None) -> HubResponse:
        """One signed request; HTTP error statuses are returned, network failures raise InvalidInput."""
        full_target = self.prefix + target
        all_headers = {H_DEVICE: self.device_id, **sign_request(self.private_key, method, full_target, body),
                       **(headers or {})}
        if body:
            all_headers["Content-Type"] = "application/zip"
        req = urllib.request.Request(self.base + target, data=body if method != "GET" else None,
                                     method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return HubResponse(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as exc:
            return HubResponse(exc.code, dict(exc.headers or {}), exc.read() or b"")
        except (urllib.error.URLError, OSError) as exc:  # the OS's own words (English, errno) stay out of it
            raise InvalidInput(f"无法连接到所里的同步服务（地址 {self.base}）：对方未开启或网络不通；"
                               "没有网络时可以用U盘或共享文件夹同步") from exc

    def patient(self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None) -> HubResponse:
        """Like ``request``, but a 503 (the hub busy: too many uploads at once, or its database held by
        another writer; nothing was done) is waited out for its Retry-After, with jitter so that the
        laptops told at the same moment do not all come back together, and sent again, newly signed,
        up to BUSY_RETRIES times."""
        for attempt in range(BUSY_RETRIES + 1):
            resp = self.request(method, target, body, headers)
            if resp.status != 503 or attempt == BUSY_RETRIES:
                break
            self.busy_retries += 1
            self.sleep(retry_after(resp) * (0.5 + secrets.randbelow(1000) / 1000))
        return resp

    def checked(self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None) -> HubResponse:
        """Like ``patient`` but any final status other than 200 raises InvalidInput with the hub's message."""
        resp = self.patient(method, target, body, headers)
        if resp.status != 200:
            raise InvalidInput(error_message(resp))
        return resp

    def push_file(self, path: Path) -> dict[str, Any]:
        path = Path(path)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"无法读取同步包 {path.name}：{exc.strerror or exc}") from exc
        return self.checked("POST", f"{API}/packages", body, {H_NAME: path.name}).json()


def retry_after(resp: HubResponse) -> float:
    """The answer's Retry-After in seconds (1 to MAX_RETRY_AFTER; 2 when absent or not a number)."""
    raw = next((v for k, v in resp.headers.items() if k.lower() == "retry-after"), "")
    return float(min(MAX_RETRY_AFTER, max(1, int(raw)))) if raw.strip().isdigit() else 2.0


def error_message(resp: HubResponse) -> str:
    """The hub's Chinese message from a JSON error body, or a generic one."""
    try:
        message = resp.json().get("error")
    except (ValueError, AttributeError, UnicodeDecodeError):
        message = None
    return f"同步服务拒绝了请求（HTTP {resp.status}）：{message or resp.body[:200].decode('utf-8', 'replace')}"


def push(ctx: AppContext, url: str, files: list[Path] | None = None, *, max_mb: float = DEFAULT_MAX_MB) -> HubSummary:
    """Upload packages to the hub: ``files`` as given, or a fresh export of this laptop's batch.

    A package lost on the way (network down mid-upload) costs nothing: until the station
    acknowledges it, the next export carries its records again.
    """
    client = HubClient.for_laptop(ctx, url)
    summary = HubSummary()
    if files:
        for path in files:
            summary.add(client.push_file(path))
        return summary
    with tempfile.TemporaryDirectory(prefix="yxjc-push-") as tmp:
        above = upstream(ctx)
        for path in export_packages(ctx, Path(tmp), max_mb=max_mb, peer=above[0] if above else None):
            summary.add(client.push_file(path))
    return summary



def pull(ctx: AppContext, url: str) -> HubSummary:
    """Download and import the station's packages for this laptop, in batch order."""
    client = HubClient.for_laptop(ctx, url)
    above = upstream(ctx)
    station = above[0] if above else ctx.setting(S_STATION_DEVICE)
    with ctx.sessions() as s:
        after = s.scalar(select(SyncPeer.last_imported_seq).where(SyncPeer.peer_id == station)) or 0
    listing = client.checked("GET", f"{API}/packages?after={after}").json()
    entries = sorted(listing.get("packages", []), key=lambda e: int(e["seq"]))[:MAX_PULL]
    summary = HubSummary()
    with tempfile.TemporaryDirectory(prefix="yxjc-pull-") as tmp:
        for entry in entries:
            seq = int(entry["seq"])
            resp = client.checked("GET", f"{API}/packages/{seq}")
            if hashlib.sha256(resp.body).hexdigest() != entry.get("sha256"):
                raise InvalidInput(f"从同步服务下载的第 {seq} 批同步包不完整（SHA-256 不符），请重试")
            name = entry.get("name", "")
            target = Path(tmp) / (name if SAFE_PACKAGE_NAME.match(name or "") else f"station-{seq:06d}.zip")
            target.write_bytes(resp.body)
            summary.add({"seq": seq, **import_package(ctx, target).as_dict()})
    return summary
