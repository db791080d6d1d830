"""What a verified token's claims turn into: org, subject, actor kind and scopes."""

from __future__ import annotations

from typing import Any

import pytest

from api.auth.verify import AuthError, principal_from, scopes_from

BASE: dict[str, Any] = {"org_id": "org-a", "sub": "alice"}


def test_scopes_come_from_scope_and_scp_together() -> None:
    assert scopes_from({"scope": "read  queue:write"}) == {"read", "queue:write"}
    assert scopes_from({"scp": ["read", "", 5]}) == {"read"}
    assert scopes_from({"scp": "audit:read read"}) == {"audit:read", "read"}
    assert scopes_from({"scope": "read", "scp": ["clips:write"]}) == {"read", "clips:write"}
    assert scopes_from({}) == frozenset()


def test_the_actor_kind_defaults_to_user_and_bots_are_bots() -> None:
    assert principal_from(BASE).kind == "user"
    assert principal_from({**BASE, "actor_kind": "bot"}).actor.kind == "bot"


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "alice"},
        {**BASE, "org_id": " "},
        {**BASE, "org_id": "o" * 256},
        {**BASE, "sub": ""},
        {**BASE, "sub": ["alice"]},
        {**BASE, "org_id": "org\x00a"},
        {**BASE, "actor_kind": "system"},
    ],
)
def test_unusable_identity_claims_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(AuthError):
        principal_from(claims)
