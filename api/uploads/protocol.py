"""The tus 1.0 wire format: its headers, how they parse, and the version on every answer.

Core, creation, expiration, termination and checksum (https://tus.io/protocols/
resumable-upload). Anything malformed is a 400 problem naming the header; nothing a
client sends here raises anything but a Problem.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from aiohttp import web
from aiohttp.typedefs import Handler

from api.backends.errors import Unavailable
from api.problems import Problem, field_error, unavailable

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,expiration,termination,checksum"
OFFSET_TYPE = "application/offset+octet-stream"
# hashlib names, as the checksum extension spells them (lower case).
CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
MAX_METADATA_CHARS = 16 * 1024
_DIGITS = re.compile(r"^[0-9]{1,19}$")
_KEY = re.compile(r"^[!-+\--~]+$")  # visible ASCII without "," (and no spaces)


def bad_header(name: str, msg: str, status: int = 400) -> Problem:
    return Problem(
        status, f"{name}: {msg}", kind="bad-header", errors=[field_error(["header", name], msg)]
    )


def header_int(request: web.Request, name: str) -> int:
    """A required non-negative decimal header (Upload-Length, Upload-Offset)."""
    raw = request.headers.get(name)
    if raw is None:
        raise bad_header(name, "this request needs the header")
    if not _DIGITS.match(raw.strip()):
        raise bad_header(name, "must be a non-negative decimal integer")
    return int(raw.strip())


def parse_metadata(raw: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs, values UTF-8 here."""
    name = "Upload-Metadata"
    if raw is None or not raw.strip():
        return {}
    if len(raw) > MAX_METADATA_CHARS:
        raise bad_header(name, f"is longer than {MAX_METADATA_CHARS} characters")
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        key, _, value = item.strip().partition(" ")
        if not _KEY.match(key):
            raise bad_header(name, "each pair is a key (visible ASCII) and a base64 value")
        if key in pairs:
            raise bad_header(name, f"the key {key!r} appears twice")
        try:
            pairs[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise bad_header(name, f"the value of {key!r} is not base64 of UTF-8 text") from exc
    return pairs


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes

    def hasher(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm)


def parse_checksum(raw: str | None) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``; an unknown algorithm is a 400."""
    name = "Upload-Checksum"
    if raw is None:
        return None
    algorithm, _, encoded = raw.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise bad_header(name, f"supported algorithms: {', '.join(CHECKSUM_ALGORITHMS)}")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as exc:
        raise bad_header(name, "the digest is not base64") from exc
    size = hashlib.new(algorithm).digest_size
    if len(digest) != size:
        raise bad_header(name, f"a {algorithm} digest is {size} bytes")
    return Checksum(algorithm, digest)


def http_date(moment: datetime) -> str:
    """RFC 9110 IMF-fixdate, the form Upload-Expires takes."""
    return format_datetime(moment, usegmt=True)


def _versioned(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Tus-Resumable"] = TUS_VERSION
    return response


def tus_endpoint(handler: Handler) -> Handler:
    """Outermost wrapper of every upload route (outside authentication): refuses a
    request that does not speak tus 1.0.0 with 412, and puts ``Tus-Resumable`` on every
    answer, errors included (the problem middleware would render them without it)."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            if request.method != "OPTIONS":
                version = request.headers.get("Tus-Resumable")
                if version != TUS_VERSION:
                    raise Problem(
                        412,
                        f"this server speaks tus {TUS_VERSION}; send Tus-Resumable: {TUS_VERSION}",
                        kind="tus-version",
                        title="Precondition failed",
                        headers={"Tus-Version": TUS_VERSION},
                    )
            return _versioned(await handler(request))
        except Problem as problem:
            return _versioned(problem.response())
        except Unavailable as exc:
            return _versioned(unavailable(exc.dependency, exc.detail, exc.retry_after).response())

    return wrapped
