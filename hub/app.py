"""The hub's HTTP routes (Starlette): signed requests in, JSON or a package out.

Errors are JSON ``{"error": "<Chinese message>"}`` with 400/401/403/404/408/409/413, and 503 with
``Retry-After`` when more uploads are in progress than the hub admits (``Hub.admit_push``) or the
database is held by another writer (``core.errors.Busy``: nothing written, the laptop asks again).
Another storage failure (a full disk, an I/O error: ``core.errors.StorageFailure``) answers 500 with
its kind's line naming "the hub's database" rather than its file or URL, and an unexpected error
answers 500 with a fixed message and never its exception text; both go to the hub's log (logger
``hub``) in full. A refusal (400) that names one of the station's folders or its database file is
answered with a neutral word in its place (``Hub.without_paths``), the full line logged.
"""
from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import sync
from core.errors import Busy, DomainError, StorageFailure
from core.sync.client import API, H_NAME
from hub.service import BUSY, DATABASE_BUSY, HUB_DATABASE, RETRY_AFTER_SECONDS, SEQ, Hub, HubError

log = logging.getLogger("hub")
INTERNAL_ERROR = "同步服务内部错误，请求未完成；详细情况已记入同步服务的日志，请联系所里的管理员"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _come_back_later(message: str) -> JSONResponse:
    """503 with ``Retry-After``: the laptop waits it out and sends the same request again (client.py)."""
    return JSONResponse({"error": message}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def create_app(hub: Hub) -> Starlette:
    """The ASGI application of one hub."""

    async def guarded(request: Request, handler) -> Response:
        try:
            return await handler(request)
        except HubError as exc:
            return _error(exc.status, exc.message)
        except Busy:  # the database, held by another writer
            return _come_back_later(DATABASE_BUSY)
        except StorageFailure as exc:  # the laptop is not told where the station keeps its database
            log.error("storage failure in %s %s: %s", request.method, request.url.path, exc.message)
            return _error(500, exc.without_where(HUB_DATABASE))
        except DomainError as exc:
            shown = hub.without_paths(exc.message)
            if shown != exc.message:
                log.warning("refused %s %s: %s", request.method, request.url.path, exc.message)
            return _error(400, shown)
        except Exception:  # noqa: BLE001 - the answer carries no detail; the log has it all
            log.exception("unexpected error in %s %s", request.method, request.url.path)
            return _error(500, INTERNAL_ERROR)

    async def push(request: Request) -> Response:
        async def run(req: Request) -> Response:
            device, body = await hub.authenticate(req, read_body=True)
            # admitted after authentication (so that nobody unknown can fill the places), before the
            # verification and the import: a busy hub does no work for an upload it turns away
            if not hub.admit_push():
                return _come_back_later(BUSY)
            try:
                result = await run_in_threadpool(hub.import_upload, device, body, req.headers.get(H_NAME, ""))
            finally:
                hub.release_push()
            return JSONResponse(result)
        return await guarded(request, run)

    async def listing(request: Request) -> Response:
        async def run(req: Request) -> Response:
            after = req.query_params.get("after", "0")  # checked first: a bad one writes nothing
            if not SEQ.fullmatch(after):
                raise HubError(400, "参数 after 应为批次号（不超过 9 位的非负整数）")
            device, _ = await hub.authenticate(req, read_body=False)
            packages = await run_in_threadpool(hub.export_for, device, int(after))
            return JSONResponse({"station_id": hub.ctx.setting(sync.S_STATION_ID), "packages": packages})
        return await guarded(request, run)

    async def download(request: Request) -> Response:
        async def run(req: Request) -> Response:
            seq = req.path_params["seq"]
            if not SEQ.fullmatch(seq):
                raise HubError(400, "批次号无效：应为不超过 9 位的非负整数")
            device, _ = await hub.authenticate(req, read_body=False)
            data = await run_in_threadpool(hub.package, device, int(seq))
            return Response(data, media_type="application/zip")
        return await guarded(request, run)

    async def http_error(_request: Request, exc: HTTPException) -> Response:
        messages = {404: "没有这个接口", 405: "不支持这种请求方法"}
        return _error(exc.status_code, messages.get(exc.status_code, f"请求无法处理（HTTP {exc.status_code}）"))

    async def unexpected(_request: Request, _exc: Exception) -> Response:
        # outside the routes (routing itself); Starlette logs the traceback after this answer
        return _error(500, INTERNAL_ERROR)

    routes = [
        Route(f"{API}/packages", push, methods=["POST"]),
        Route(f"{API}/packages", listing, methods=["GET"]),
        Route(API + "/packages/{seq}", download, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: unexpected})
