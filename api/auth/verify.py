"""Token verification: RS256 only, kid from the local store or the external JWKS."""

from __future__ import annotations

from typing import Any, get_args

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from api.auth.cache import VerifiedTokens
from api.auth.jwks import RemoteJwks
from api.auth.keystore import KeyStore
from api.auth.principal import Principal
from api.auth.tokens import KIND_CLAIM, TokenKind

ALGORITHMS = ["RS256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# The envelope's limits (schemas/envelope.py): a longer org or sub could not be recorded.
MAX_ID_CHARS = 255
TOKEN_KINDS = frozenset(get_args(TokenKind))


class AuthError(Exception):
    """The token does not authenticate its bearer; the message says why (safe to show)."""


class TokenVerifier:
    def __init__(
        self,
        store: KeyStore,
        issuer: str,
        audience: str,
        leeway: int,
        remote: RemoteJwks | None = None,
    ) -> None:
        self._store = store
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._remote = remote
        self._verified = VerifiedTokens()

    async def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        key = await self._key_for(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("the token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthError("the token is not meant for this API (aud)") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthError("the token's issuer is not trusted (iss)") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthError("the token's signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        principal = principal_from(claims)
        # exp is required and was checked with the leeway; cache no longer than it.
        self._verified.put(token, principal, float(claims["exp"]))
        return principal

    async def _key_for(self, token: str) -> rsa.RSAPublicKey:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("the token is not a well-formed JWT") from exc
        # Checked before any key lookup: "none" and HS* (e.g. HS256 keyed with our public
        # key PEM) never reach a verifier, whatever the library would do with them.
        if header.get("alg") not in ALGORITHMS:
            raise AuthError(f"algorithm {header.get('alg')!r} is not accepted; use RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("the token has no key id (kid)")
        key = self._store.public_key(kid)
        if key is None and self._remote is not None:
            key = await self._remote.key(kid)
        if key is None:
            raise AuthError("the token's signing key is unknown")
        return key


def principal_from(claims: dict[str, Any]) -> Principal:
    org_id = claims.get("org_id")
    if not _usable_id(org_id):
        raise AuthError("the token has no usable org_id claim")
    sub = claims.get("sub")
    if not _usable_id(sub):
        raise AuthError("the token has no usable sub claim")
    kind = claims.get(KIND_CLAIM, "user")
    if kind not in TOKEN_KINDS:
        raise AuthError(f"the token's {KIND_CLAIM} must be one of {sorted(TOKEN_KINDS)}")
    return Principal(org_id=str(org_id), sub=str(sub), kind=kind, scopes=scopes_from(claims))


def _usable_id(value: Any) -> bool:
    # NUL cannot be stored in PostgreSQL text, and every read filters by org_id.
    return (
        isinstance(value, str)
        and bool(value.strip())
        and len(value) <= MAX_ID_CHARS
        and "\x00" not in value
    )


def scopes_from(claims: dict[str, Any]) -> frozenset[str]:
    """Scopes from ``scope`` (space-delimited, RFC 8693) and/or ``scp`` (array or string)."""
    found: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, str) and v)
    return frozenset(found)
