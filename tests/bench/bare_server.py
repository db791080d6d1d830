"""The ceiling for command ingest: a bare aiohttp handler that parses JSON and answers 202.

`python -m tests.bench.bare_server PORT [PROCESSES]`: with several processes they
share the port with SO_REUSEPORT, as `wavestack api --processes N` does.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import uuid

from aiohttp import web

from wavestack import runtime


async def accept(request: web.Request) -> web.Response:
    body = await request.json()
    if not isinstance(body, dict):
        raise web.HTTPBadRequest()
    return web.json_response({"id": str(uuid.uuid4()), "status": "accepted"}, status=202)


def serve(port: int, reuse_port: bool) -> None:
    app = web.Application()
    app.router.add_post("/v1/queue", accept)
    web.run_app(
        app,
        host="127.0.0.1",
        port=port,
        print=None,
        access_log=None,
        reuse_port=reuse_port or None,
    )


def main() -> None:
    runtime.prepare()  # the API's loop and collector: the ceiling is aiohttp's, not theirs
    port = int(sys.argv[1])
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if processes == 1:
        serve(port, reuse_port=False)
        return
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=serve, args=(port, True)) for _ in range(processes)]
    for child in children:
        child.start()

    def stop(signum: int, frame: object) -> None:
        for child in children:
            child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()


if __name__ == "__main__":
    main()
