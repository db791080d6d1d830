"""Middlewares: every error becomes problem+json; every answer is counted and timed."""

from __future__ import annotations

import time

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from api.appkeys import METRICS, PRINCIPAL
from api.backends.errors import Unavailable
from api.commands.body import MAX_BODY_BYTES
from api.problems import Problem, unavailable

log = structlog.get_logger(__name__)

_DETAILS = {
    404: "no such resource",
    405: "this method is not allowed on this resource",
    413: f"the request body is larger than {MAX_BODY_BYTES // 1024 // 1024} MiB",
}


def _route(request: web.Request) -> str:
    info = request.match_info
    resource = info.route.resource if info.http_exception is None else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        request.app[METRICS].observe(
            _route(request), request.method, status, time.perf_counter() - started
        )


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Problem as problem:
        return problem.response()
    except Unavailable as exc:
        request.app[METRICS].unavailable.labels(exc.dependency).inc()
        return unavailable(exc.dependency, exc.detail, exc.retry_after).response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like are answers, not errors
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        detail = _DETAILS.get(exc.status, exc.reason)
        return Problem(exc.status, detail, headers=headers).response()
    except Exception:
        # Only our own bugs get here: everything a client can cause is a Problem above.
        principal = request.get(PRINCIPAL)
        log.exception(
            "unhandled error",
            method=request.method,
            path=request.path,
            org_id=principal.org_id if principal else None,
        )
        return Problem(500, "an internal error occurred; it has been logged").response()
