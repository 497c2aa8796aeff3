"""The station's sync hub: the batch packages of ``core.sync`` over HTTP on the local network.

``main.py hub --db URL --host H --port P`` serves the Starlette app (``hub.app``) over the
hub's state (``hub.service``) with uvicorn. The database is the station's: an SQLite file
for one station, or PostgreSQL for a county or city hub (docs/sync-format.md "HTTP hub").
"""
from __future__ import annotations

from pathlib import Path

from core.context import AppContext
from hub.app import create_app
from hub.service import DEFAULT_MAX_UPLOAD_MB, Hub, HubError

__all__ = ["DEFAULT_MAX_UPLOAD_MB", "Hub", "HubError", "create_app", "default_outbox", "serve"]


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
