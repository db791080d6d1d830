"""The one error a backend raises when its service cannot be reached."""

from __future__ import annotations


class Unavailable(Exception):
    """Kafka or PostgreSQL is unreachable (or too slow); the client should retry later."""

    def __init__(self, dependency: str, detail: str, retry_after: int = 2) -> None:
        super().__init__(f"{dependency}: {detail}")
        self.dependency = dependency
        self.detail = detail
        self.retry_after = retry_after
