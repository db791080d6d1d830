"""Who is calling a tool, and the way its commands reach the API's ordinary routes.

A tool's command is sent to this same API over HTTP with the caller's own bearer
token, so it takes exactly the path a client's does: scope check, rate limit, body
validation, the idempotency check and the produce - no second copy of those rules
to drift. Reads run in-process against the read model, scoped to the token's org.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from api.auth.principal import Principal

# The key under which the route hands the caller to the MCP server (ASGI scope).
SCOPE_KEY = "wavestack.caller"


class ToolFailure(Exception):
    """A tool's answer is an error: ``problem`` is what the tool result carries."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(str(problem.get("detail", "")))
        self.problem = problem


@dataclass(frozen=True)
class Caller:
    principal: Principal
    token: str
    app: web.Application
    # Where this API was reached (the socket the MCP request came in on).
    base_url: str
    http: aiohttp.ClientSession

    async def command(self, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
        try:
            async with self.http.post(self.base_url + path, json=body, headers=headers) as resp:
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Whether it was produced is unknown: the same call again (same key) is safe.
            raise ToolFailure(
                {"title": "Service unavailable", "status": 503, "detail": f"no answer: {exc!r}"}
            ) from exc
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = {"detail": raw[:200].decode(errors="replace")}
        if resp.status >= 400:
            problem = doc if isinstance(doc, dict) else {"status": resp.status}
            if "Retry-After" in resp.headers:  # 429/503: when the assistant may try again
                problem["retry_after"] = resp.headers["Retry-After"]
            raise ToolFailure(problem)
        return doc if isinstance(doc, dict) else {}


def base_url_of(request: web.Request) -> str:
    """The address the request reached: any API process listening there will do."""
    sock = request.transport.get_extra_info("sockname") if request.transport else None
    if not isinstance(sock, tuple) or len(sock) < 2:
        raise web.HTTPServiceUnavailable(reason="the MCP endpoint needs a TCP listener")
    host, port = sock[0], sock[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def refused(detail: str, **extra: Any) -> ToolFailure:
    return ToolFailure({"title": "Refused", "detail": detail, **extra})
