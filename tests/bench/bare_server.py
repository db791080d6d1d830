"""The ceiling for command ingest: a bare aiohttp handler that parses JSON and answers 202."""

from __future__ import annotations

import sys
import uuid

from aiohttp import web


async def accept(request: web.Request) -> web.Response:
    body = await request.json()
    if not isinstance(body, dict):
        raise web.HTTPBadRequest()
    return web.json_response({"id": str(uuid.uuid4()), "status": "accepted"}, status=202)


def main() -> None:
    app = web.Application()
    app.router.add_post("/v1/queue", accept)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
