"""A bounded memory of tokens already verified, so a bot's repeated token costs no RSA.

A JWT is immutable: once its signature and claims verified, the same string verifies
the same way until it expires. Entries are kept at most ``max_age`` seconds (so a key
removed from the store stops working within that time) and never past ``exp``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from api.auth.principal import Principal


class VerifiedTokens:
    def __init__(
        self,
        max_entries: int = 10_000,
        max_age: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._max_entries = max_entries
        self._max_age = max_age
        self._clock = clock

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        principal, valid_until = entry
        if self._clock() >= valid_until:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return principal

    def put(self, token: str, principal: Principal, expires_at: float) -> None:
        self._entries[token] = (principal, min(expires_at, self._clock() + self._max_age))
        self._entries.move_to_end(token)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
