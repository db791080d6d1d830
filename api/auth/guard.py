"""Route guard: authenticates the bearer and checks one scope before the handler runs."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from api.appkeys import PRINCIPAL, VERIFIER
from api.auth.principal import Principal
from api.auth.verify import AuthError
from api.problems import forbidden, unauthorized

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GuardedHandler = Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]


async def authenticate(request: web.Request) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise unauthorized("an Authorization: Bearer token is required", invalid_token=False)
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("use the Bearer scheme: Authorization: Bearer <token>")
    try:
        principal = await request.app[VERIFIER].verify(token.strip())
    except AuthError as exc:
        raise unauthorized(str(exc)) from exc
    request[PRINCIPAL] = principal
    return principal


def requires(scope: str) -> Callable[[GuardedHandler], Handler]:
    """Wraps a handler so it runs only for a verified token carrying ``scope``."""

    def wrap(handler: GuardedHandler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            principal = await authenticate(request)
            if not principal.has(scope):
                raise forbidden(scope)
            return await handler(request, principal)

        return guarded

    return wrap
