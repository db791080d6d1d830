"""Unauthenticated ops endpoints: liveness, readiness, metrics and the public keys."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from api.appkeys import DATABASE, KEYS, METRICS, PRODUCER
from api.backends.errors import Unavailable
from api.problems import Problem
from api.reads.queue import count_overdue


async def healthz(request: web.Request) -> web.StreamResponse:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.StreamResponse:
    """Ready when Kafka and PostgreSQL both answer; otherwise 503 naming what is down."""
    checks = {"kafka": request.app[PRODUCER].check(), "postgresql": request.app[DATABASE].check()}
    results = await asyncio.gather(*checks.values(), return_exceptions=True)
    status: dict[str, str] = {}
    for name, result in zip(checks, results, strict=True):
        if isinstance(result, Unavailable):
            status[name] = result.detail
        elif isinstance(result, BaseException):
            raise result
        else:
            status[name] = "ok"
    down = sorted(name for name, state in status.items() if state != "ok")
    if down:
        raise Problem(
            503,
            f"not ready: {', '.join(down)} unavailable",
            kind="not-ready",
            title="Not ready",
            headers={"Retry-After": "2"},
            extra={"checks": status, "unavailable": down},
        )
    return web.json_response({"status": "ready", "checks": status})


async def metrics(request: web.Request) -> web.StreamResponse:
    # Without PostgreSQL the overdue gauge keeps its last value; the scrape still answers.
    with contextlib.suppress(Unavailable):
        request.app[METRICS].set_overdue(await count_overdue(request.app[DATABASE]))
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def jwks(request: web.Request) -> web.StreamResponse:
    keys = await asyncio.to_thread(request.app[KEYS].jwks)
    return web.json_response(keys, headers={"Cache-Control": "public, max-age=300"})
