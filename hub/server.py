"""Serving the hub: uvicorn over the Starlette app of one station database."""
from __future__ import annotations

from pathlib import Path

from core.context import AppContext
from hub.app import create_app
from hub.service import DEFAULT_MAX_UPLOAD_MB, Hub


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
