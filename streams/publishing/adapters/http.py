"""The shared HTTP session, a bounded request helper, and rate-limit header parsing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import aiohttp
import structlog
from yarl import URL

from streams.publishing.adapters.base import Answer, ErrorClass, Failed
from streams.publishing.egress import EgressConnector, EgressRefused

# Platforms answer within seconds; 30 s is the upper end of what Standard Webhooks
# receivers are given, and a publish that hangs longer is better reconciled than awaited.
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10, sock_connect=10, sock_read=30)
MAX_ANSWER_BYTES = 1024 * 1024
# Platforms ask for waits this long at most in practice; longer is a parsing accident.
MAX_WAIT = timedelta(days=2)

log = structlog.get_logger(__name__)


def create_session(
    *, allow_private: bool = False, timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT
) -> aiohttp.ClientSession:
    """The one session every adapter shares; egress policy applies to all of it."""
    connector = EgressConnector(allow_private=allow_private, limit=100, limit_per_host=10)
    # trust_env=False: no proxy from the environment can bypass the egress check.
    return aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False)


class TransportFailure(Exception):
    """No HTTP answer. `maybe_sent` is False only when no byte can have left."""

    def __init__(self, maybe_sent: bool, summary: str, refused: bool = False) -> None:
        super().__init__(summary)
        self.maybe_sent = maybe_sent
        self.summary = summary
        self.refused = refused

    def as_failed(self, sent_means_unknown: bool = True) -> Failed:
        if self.refused:
            return Failed(ErrorClass.PERMANENT, None, self.summary, connection_broken=True)
        if self.maybe_sent and sent_means_unknown:
            return Failed(ErrorClass.UNKNOWN_OUTCOME, None, self.summary)
        return Failed(ErrorClass.TRANSIENT, None, self.summary)


def _refusal(exc: BaseException) -> EgressRefused | None:
    """The egress refusal behind an aiohttp error (it wraps it in its own types)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, EgressRefused):
            return seen
        if isinstance(seen, aiohttp.ClientConnectorError) and isinstance(
            seen.os_error, EgressRefused
        ):
            return seen.os_error
        seen = seen.__cause__ or seen.__context__
    return None


async def _bounded_body(content: aiohttp.StreamReader) -> bytes:
    # A hostile receiver could stream forever; what we need fits well within the bound.
    parts: list[bytes] = []
    size = 0
    while size < MAX_ANSWER_BYTES:
        part = await content.read(MAX_ANSWER_BYTES - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


async def send(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Answer:
    """One request, read in full; transport trouble becomes `TransportFailure`.

    Summaries name the kind of trouble only: aiohttp's messages carry the URL, and a
    webhook URL is a credential.
    """
    try:
        answer = await _request(session, method, url, **kwargs)
    except TransportFailure as exc:
        # The host only: paths and queries carry tokens (Discord webhooks).
        log.info("platform.no_answer", method=method, host=URL(url).host, summary=exc.summary)
        raise
    log.debug("platform.answer", method=method, host=URL(url).host, status=answer.status)
    return answer


async def _request(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Answer:
    try:
        async with session.request(method, url, allow_redirects=False, **kwargs) as response:
            body = await _bounded_body(response.content)
            return Answer(response.status, dict(response.headers), body)
    except aiohttp.ConnectionTimeoutError:
        raise TransportFailure(False, "timed out connecting") from None
    except TimeoutError:  # before OSError, of which it is a subclass
        raise TransportFailure(True, "timed out waiting for the platform's answer") from None
    except (OSError, aiohttp.ClientError) as exc:
        refusal = _refusal(exc)
        if refusal is not None:
            summary = f"egress refused: {refusal.reason}"
            raise TransportFailure(False, summary, refused=True) from None
        if isinstance(exc, aiohttp.ClientConnectorError):
            raise TransportFailure(False, "could not connect") from None
        if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
            raise TransportFailure(False, "the URL is not usable", refused=True) from None
        raise TransportFailure(True, f"connection lost ({type(exc).__name__})") from None


def json_body(answer: Answer) -> Any:
    """The answer's JSON, or None: error bodies are often HTML from a proxy."""
    try:
        return json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        return None


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _bounded(now: datetime, seconds: float) -> datetime | None:
    if seconds != seconds or seconds < 0:  # NaN or negative: not a usable answer
        return None
    return now + min(timedelta(seconds=seconds), MAX_WAIT)


def after_seconds(now: datetime, value: object) -> datetime | None:
    """`now + value` seconds (int, float or decimal text), or None when unusable."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return _bounded(now, seconds)


def retry_after(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """RFC 9110 `Retry-After`: delay seconds or an HTTP date."""
    value = header(headers, "Retry-After")
    if value is None:
        return None
    if value.strip().isdigit():
        return after_seconds(now, value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when, now) if when - now <= MAX_WAIT else None


def epoch_reset(headers: Mapping[str, str], name: str, now: datetime) -> datetime | None:
    """A reset header in epoch seconds (X's `x-rate-limit-reset`, Discord's with decimals)."""
    value = header(headers, name)
    if value is None:
        return None
    try:
        when = datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return max(when, now) if when - now <= MAX_WAIT else None


def short(text: object, limit: int = 200) -> str:
    """A platform message cut to a loggable length, one line."""
    return " ".join(str(text).split())[:limit]


class RateLimitMemory:
    """Buckets a platform said are empty (remaining 0), so we don't send into a 429."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}

    def blocked_until(self, key: str, now: datetime) -> datetime | None:
        until = self._until.get(key)
        if until is None or until <= now:
            self._until.pop(key, None)
            return None
        return until

    def note(self, key: str, remaining: str | None, reset_at: datetime | None) -> None:
        if remaining is not None and remaining.strip() == "0" and reset_at is not None:
            self._until[key] = reset_at


def dig(value: Any, *keys: str) -> Any:
    """`value[k1][k2]…` through dicts only, None when any step is missing or not a dict."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def read_chunk(path: Path, offset: int, size: int) -> bytes:
    """``size`` bytes of a media file from ``offset`` (uploads send files in pieces)."""
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(size)
