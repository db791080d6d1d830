"""Issuing RS256 tokens signed with the store's active key."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Literal

import jwt

from api.auth.keystore import KeyStore

TokenKind = Literal["user", "bot", "service"]
# The claim that says what kind of actor holds the token (recorded in every envelope).
KIND_CLAIM = "actor_kind"


def issue_token(
    store: KeyStore,
    org: str,
    sub: str,
    scopes: Iterable[str],
    ttl: int,
    issuer: str,
    audience: str,
    kind: TokenKind = "user",
) -> str:
    if not org or not sub:
        raise ValueError("org and sub must not be empty")
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    kid, key = store.signing_key()
    issued = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "org_id": org,
        "scope": " ".join(sorted(set(scopes))),
        KIND_CLAIM: kind,
        "iat": issued,
        "exp": issued + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
