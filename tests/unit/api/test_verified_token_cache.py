"""The verified-token memory: hits, expiry, age limit, bound."""

from __future__ import annotations

from api.auth.cache import VerifiedTokens
from api.auth.principal import Principal


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def principal(org: str = "o") -> Principal:
    return Principal(org_id=org, sub="s", kind="bot", scopes=frozenset({"read"}))


def test_a_verified_token_is_remembered_until_it_expires() -> None:
    clock = Clock()
    cache = VerifiedTokens(clock=clock)
    cache.put("t", principal(), expires_at=1010.0)
    assert cache.get("t") == principal()
    clock.now = 1010.0
    assert cache.get("t") is None


def test_a_token_is_forgotten_after_the_maximum_age_even_if_valid() -> None:
    clock = Clock()
    cache = VerifiedTokens(max_age=5.0, clock=clock)
    cache.put("t", principal(), expires_at=5000.0)
    clock.now = 1004.9
    assert cache.get("t") is not None
    clock.now = 1005.0
    assert cache.get("t") is None


def test_the_least_recently_used_token_is_dropped_when_full() -> None:
    cache = VerifiedTokens(max_entries=2, clock=Clock())
    cache.put("a", principal("a"), 2000.0)
    cache.put("b", principal("b"), 2000.0)
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", principal("c"), 2000.0)
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


def test_an_unknown_token_is_a_miss() -> None:
    assert VerifiedTokens().get("never-seen") is None
