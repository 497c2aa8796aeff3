"""Serving the hub: uvicorn over the Starlette app of one station database.

Limits against slow or idle clients (docs/sync-format.md "HTTP hub"): a request's headers
must arrive within ``request_timeout`` seconds (``hub.protocol``), at most
``MAX_WAITING`` connections may wait for theirs (the longest-waiting one is closed for a
new one), the headers are at most 16 KB, the body is timed and bounded by the hub
(``hub.service``), idle keep-alive connections close after 5 s, and at most
``MAX_WAITING + MAX_ACTIVE`` connections are served at once (beyond: 503).
"""
from __future__ import annotations

import logging
from pathlib import Path

from core.context import AppContext
from hub.app import create_app
from hub.service import DEFAULT_MAX_UPLOAD_MB, DEFAULT_REQUEST_TIMEOUT, Hub

MAX_WAITING = 256  # connections waiting for their request headers
MAX_ACTIVE = 128  # requests being served beside them
MAX_HEADER_BYTES = 16 * 1024


def default_outbox(ctx: AppContext) -> Path:
    """Where the hub keeps the packages it has exported for laptops, beside the attachments."""
    return ctx.attachments_dir.parent / f"{ctx.attachments_dir.name.removesuffix('-attachments')}-hub-outbox"


def uvicorn_config(app, host: str, port: int, *, request_timeout: float = DEFAULT_REQUEST_TIMEOUT):
    """The uvicorn configuration with the hub's limits."""
    import uvicorn

    from hub.protocol import guarded_protocol

    return uvicorn.Config(
        app, host=host, port=port, log_level="info", access_log=True,
        http=guarded_protocol(request_timeout, MAX_WAITING), ws="none", lifespan="off",
        timeout_keep_alive=5, timeout_graceful_shutdown=5,
        limit_concurrency=MAX_WAITING + MAX_ACTIVE, backlog=2 * MAX_WAITING,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )


def _log_to_stderr() -> None:
    """The hub's own log lines (unexpected errors with their traceback) beside uvicorn's."""
    log = logging.getLogger("hub")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def serve(ctx: AppContext, host: str, port: int, *, outbox: Path | None = None,
          max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
          ready=None) -> None:
    """Run the hub until interrupted (Ctrl+C / SIGTERM)."""
    import uvicorn

    _log_to_stderr()
    hub = Hub(ctx, outbox or default_outbox(ctx), max_upload_mb=max_upload_mb, request_timeout=request_timeout)
    server = uvicorn.Server(uvicorn_config(create_app(hub), host, port, request_timeout=request_timeout))
    if ready is not None:
        ready(hub)
    server.run()
