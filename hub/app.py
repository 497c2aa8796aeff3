"""The hub's HTTP routes (Starlette): signed requests in, JSON or a package out.

Errors are JSON ``{"error": "<Chinese message>"}`` with 400/401/403/404/409/413.
"""
from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import sync
from core.errors import DomainError
from core.sync.client import API, H_NAME
from hub.service import Hub, HubError


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


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
