"""The composition root: create_app(settings) wires every dependency of the API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from api.appkeys import (
    DATABASE,
    FINGERPRINTS,
    KEY_TABLE,
    KEYS,
    LIMITER,
    MEDIA,
    METRICS,
    OPENAPI,
    PRODUCER,
    RECENT,
    SETTINGS,
    VERIFIER,
)
from api.auth.jwks import RemoteJwks
from api.auth.keystore import KeyStore
from api.auth.verify import TokenVerifier
from api.backends.errors import Unavailable
from api.backends.kafka import CommandProducer
from api.backends.postgres import Database
from api.commands.body import MAX_BODY_BYTES
from api.commands.fingerprints import FingerprintLookup
from api.commands.recent import RecentCommands
from api.config import ApiSettings
from api.connections.keys import KeyTable
from api.integrations.store import INBOUND, InboundStore
from api.mcp.route import mount as mount_mcp
from api.metrics import Metrics
from api.middleware import metrics_middleware, problem_middleware
from api.openapi import document_bytes
from api.ratelimit import Limiter, RateLimiter
from api.routes import ROUTES, add_routes
from api.uploads.sweeper import upload_sweeper
from clipper.paths import MediaRoot


def create_app(settings: ApiSettings, *, limiter: Limiter | None = None) -> web.Application:
    """``limiter``: the buckets shared by several API processes; default: this process's."""
    # metrics outermost, so it records the status the problem middleware produced.
    app = web.Application(
        middlewares=[metrics_middleware, problem_middleware], client_max_size=MAX_BODY_BYTES
    )
    app[SETTINGS] = settings
    app[MEDIA] = MediaRoot(settings.media_root)
    keys = KeyStore(settings.auth_keys_dir, first_kid=settings.auth_key_id)
    remote = (
        RemoteJwks(settings.auth_jwks_url, settings.auth_jwks_cooldown_seconds)
        if settings.auth_jwks_url
        else None
    )
    app[KEYS] = keys
    app[VERIFIER] = TokenVerifier(
        keys,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        leeway=settings.auth_leeway_seconds,
        remote=remote,
    )
    app[PRODUCER] = CommandProducer(settings.kafka)
    app[DATABASE] = Database(settings.dsn, settings.db_schema)
    app[LIMITER] = limiter or RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    app[RECENT] = RecentCommands()
    app[FINGERPRINTS] = FingerprintLookup(app[DATABASE])
    app[KEY_TABLE] = KeyTable(settings, app[DATABASE])
    app[INBOUND] = InboundStore(settings, app[DATABASE])
    app[METRICS] = Metrics()
    app[OPENAPI] = document_bytes(ROUTES)
    add_routes(app, ROUTES)
    mount_mcp(app)  # /mcp: the MCP server, behind the same tokens

    async def resources(app: web.Application) -> AsyncIterator[None]:
        # Best effort: a dependency that is down now is retried on the first request that
        # needs it, so the API starts (and /healthz answers) without Kafka or PostgreSQL.
        with contextlib.suppress(Unavailable):
            await app[PRODUCER].started()
        yield
        await app[PRODUCER].close()
        await app[DATABASE].close()
        if remote is not None:
            await remote.close()

    app.cleanup_ctx.append(resources)
    app.cleanup_ctx.append(upload_sweeper)
    return app
