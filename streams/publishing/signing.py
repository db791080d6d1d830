"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

Secrets are `whsec_<base64>`; the HMAC key is the decoded bytes. Several secrets give
several space-separated signatures, so a receiver can rotate without missing a delivery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
# Receivers accept a timestamp this far from their clock (the spec's ±5 minutes).
TOLERANCE_SECONDS = 300


class InvalidSecret(ValueError):
    """A secret that is not `whsec_` followed by non-empty base64."""


class SignatureMismatch(ValueError):
    """Headers missing, timestamp out of tolerance, or no signature matches."""


def secret_key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret("webhook secret must start with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("webhook secret is not valid base64") from exc
    if not key:
        raise InvalidSecret("webhook secret is empty")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(
    secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers of a delivery, one signature per secret (newest first)."""
    if not secrets:
        raise InvalidSecret("at least one webhook secret is needed")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets),
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> str:
    """Check a delivery as a receiver would; returns its `webhook-id`."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        raise SignatureMismatch("missing webhook headers")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise SignatureMismatch("webhook-timestamp is not an integer") from exc
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureMismatch("webhook-timestamp outside the tolerance")
    expected = signature(secret, msg_id, timestamp, body)
    if any(hmac.compare_digest(expected, given) for given in signatures.split(" ")):
        return msg_id
    raise SignatureMismatch("no matching signature")
