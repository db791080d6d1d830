"""Typed exceptions for the API's problem+json answers (RFC 9457), one class per kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One entry of a problem's ``errors``: where (``["body", "title"]``) and why."""

    loc: tuple[str | int, ...]
    msg: str


class WaveStackError(Exception):
    """Base of every error this client raises."""


class ApiError(WaveStackError):
    """An error answer of the API; ``problem`` is the whole problem document."""

    def __init__(self, status: int, problem: dict[str, Any], headers: dict[str, str]) -> None:
        self.status = status
        self.problem = problem
        self.headers = headers
        self.type: str = str(problem.get("type", "about:blank"))
        self.title: str = str(problem.get("title", ""))
        self.detail: str = str(problem.get("detail", ""))
        self.errors: list[FieldError] = [
            FieldError(tuple(e.get("loc", ())), str(e.get("msg", "")))
            for e in problem.get("errors") or []
            if isinstance(e, dict)
        ]
        super().__init__(f"{status} {self.title}: {self.detail}")

    @property
    def kind(self) -> str:
        """The problem kind (``validation``, ``not-found``…), "" for ``about:blank``."""
        return self.type.removeprefix("urn:wavestack:problem:") if ":problem:" in self.type else ""


class BadRequest(ApiError):
    """400: malformed JSON, a bad header, a malformed tus header."""


class Unauthorized(ApiError):
    """401: no token, or one the API does not accept (expired, wrong key, issuer…)."""


class Forbidden(ApiError):
    """403: the token lacks the route's scope."""


class NotFound(ApiError):
    """404: unknown id, or another organization's resource."""


class Conflict(ApiError):
    """409: an impossible transition, an asset not registered yet, a tus offset mismatch."""


class Gone(ApiError):
    """410: an upload that expired."""


class PayloadTooLarge(ApiError):
    """413: a body or upload over the server's limits."""


class UnsupportedMediaType(ApiError):
    """415: not JSON, or an upload that is no media file."""


class ValidationFailed(ApiError):
    """422: invalid fields; ``errors`` names each one."""


class IdempotencyKeyReused(ValidationFailed):
    """422: the Idempotency-Key was already used with another body."""


class Locked(ApiError):
    """423: another PATCH of the same upload is running."""


class ChecksumMismatch(ApiError):
    """460: a tus chunk's checksum differs; the chunk was discarded."""


class RetryableError(ApiError):
    """An answer worth retrying later; ``retry_after`` in seconds, if the server said."""

    @property
    def retry_after(self) -> float | None:
        raw = self.headers.get("Retry-After")
        try:
            return max(0.0, float(raw)) if raw is not None else None
        except ValueError:  # an HTTP date: we never send one; treat as "unknown"
            return None


class RateLimited(RetryableError):
    """429: the organization is over its rate limit."""


class Unavailable(RetryableError):
    """503: Kafka or PostgreSQL unreachable, or the server is not configured for this."""


class QuotaExceeded(ApiError):
    """507: the organization's storage quota would be exceeded."""


class CommandRejected(WaveStackError):
    """wait_for_outcome(check=True): the decider rejected the command."""

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        super().__init__(f"command {outcome.command_id} rejected: {outcome.reason}")


class OutcomeTimeout(WaveStackError, TimeoutError):
    """wait_for_outcome: no final outcome within the timeout (the command may still apply)."""


class UploadFailed(WaveStackError):
    """An upload could not be completed after its retries; ``url`` resumes it later."""

    def __init__(self, message: str, url: str | None) -> None:
        self.url = url
        super().__init__(message)


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    423: Locked,
    429: RateLimited,
    460: ChecksumMismatch,
    503: Unavailable,
    507: QuotaExceeded,
}


def error_for(status: int, problem: dict[str, Any], headers: dict[str, str]) -> ApiError:
    """The exception for an error answer (its body parsed, or ``{}`` if it had none)."""
    if problem.get("type") == "urn:wavestack:problem:idempotency-key-reused":
        return IdempotencyKeyReused(status, problem, headers)
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = RetryableError if status in (502, 504) else ApiError
    return cls(status, problem, headers)
