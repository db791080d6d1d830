"""Running the API: `wavestack api` calls run(settings), once per API process."""

from __future__ import annotations

import structlog
from aiohttp import web

from api.app import create_app
from api.config import ApiSettings
from api.ratelimit import Limiter

log = structlog.get_logger(__name__)


def run(settings: ApiSettings, *, limiter: Limiter | None = None, reuse_port: bool = False) -> None:
    """Serves until SIGINT or SIGTERM, then closes the producer and the pool cleanly.

    ``reuse_port``: bind with SO_REUSEPORT, so several processes share the port and
    the kernel spreads connections over them; they pass a shared ``limiter``.

    The read-model schema must exist (`wavestack migrate`); until it does, reads
    answer 503 and /readyz says so.
    """
    log.info("api starting", host=settings.api_host, port=settings.api_port)
    # run_app turns SIGINT and SIGTERM into a graceful shutdown that runs cleanup_ctx.
    web.run_app(
        create_app(settings, limiter=limiter),
        host=settings.api_host,
        port=settings.api_port,
        print=None,
        handle_signals=True,
        shutdown_timeout=10.0,
        reuse_port=reuse_port or None,
    )
    log.info("api stopped")
