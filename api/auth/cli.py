"""What the CLI calls: `wavestack token` and `wavestack keys rotate`."""

from __future__ import annotations

from collections.abc import Iterable

from api.auth.keystore import KeyStore
from api.auth.tokens import TokenKind, issue_token
from api.config import AuthSettings

DEFAULT_TTL_S = 3600


def key_store(settings: AuthSettings) -> KeyStore:
    return KeyStore(settings.auth_keys_dir, first_kid=settings.auth_key_id)


def issue_token_from_settings(
    settings: AuthSettings,
    *,
    org: str,
    sub: str,
    scope: str | Iterable[str],
    ttl: int = DEFAULT_TTL_S,
    kind: TokenKind = "user",
) -> str:
    """A token signed with the active local key; ``scope`` is "a b" or ["a", "b"]."""
    wanted = scope.split() if isinstance(scope, str) else list(scope)
    return issue_token(
        key_store(settings),
        org=org,
        sub=sub,
        scopes=wanted,
        ttl=ttl,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        kind=kind,
    )


def rotate_keys_from_settings(settings: AuthSettings) -> str:
    """Adds a new active signing key and returns its kid; old keys keep verifying."""
    return key_store(settings).rotate()
