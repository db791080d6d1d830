"""Who is calling: what a verified token says about its bearer."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from schemas.envelope import Actor, ActorKind


@dataclass(frozen=True)
class Principal:
    org_id: str
    sub: str
    kind: ActorKind
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    # Cached: a verified token's principal is reused for every request that carries it.
    @functools.cached_property
    def actor(self) -> Actor:
        return Actor(sub=self.sub, kind=self.kind)
