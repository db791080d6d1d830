"""The probes' HTTP server: /healthz and /readyz from probes.health, /metrics from Prometheus.

A thread of its own, as prometheus_client's ``start_http_server`` was, on the same port
(the process's metrics port). It only reads the state the process's loop keeps, so a
wedged loop still gets an answer, with the reason (a probe served by that loop would
just time out). Every other path is the Prometheus exposition, as before.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from probes.health import HEALTH, Answer, Health


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """A probe every few seconds is not worth a log line."""


@dataclass
class ProbeServer:
    port: int
    _server: ThreadingWSGIServer
    _thread: threading.Thread

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def probe_app(health: Health) -> WSGIApplication:
    metrics = make_wsgi_app()
    answers: dict[str, Callable[[], Answer]] = {
        "/healthz": health.liveness,
        "/readyz": health.readiness,
    }

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer = answers.get(environ.get("PATH_INFO", ""))
        if answer is None:
            body: Iterable[bytes] = metrics(environ, start_response)
            return body
        given = answer()
        payload = json.dumps(given.body).encode()
        status = HTTPStatus(given.status)
        start_response(
            f"{status.value} {status.phrase}",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [payload]

    return app


def serve(port: int, host: str, health: Health = HEALTH) -> ProbeServer:
    """Serves the probes and the metrics on ``host:port`` from a daemon thread (port 0:
    any free one, see ``.port``)."""

    class Server(ThreadingWSGIServer):
        pass

    # As prometheus_client picks it: an IPv6 host needs an IPv6 socket.
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    Server.address_family = family
    server = make_server(str(address[0]), port, probe_app(health), Server, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="probes", daemon=True)
    thread.start()
    return ProbeServer(server.server_port, server, thread)
