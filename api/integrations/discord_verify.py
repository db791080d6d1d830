"""Discord's request signature: Ed25519 over ``X-Signature-Timestamp`` + raw body."""

from __future__ import annotations

import binascii
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE_HEADER = "X-Signature-Ed25519"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
# Discord sends at once; an interaction signed this long ago is a replay.
MAX_AGE_SECONDS = 600


def signature_valid(public_key_hex: str, signature_hex: str, timestamp: str, body: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), timestamp.encode() + body)
    except (InvalidSignature, ValueError, binascii.Error, UnicodeEncodeError):
        return False
    return True


def timestamp_fresh(timestamp: str, now: float | None = None) -> bool:
    """Unix seconds, within MAX_AGE_SECONDS of now (either way: clocks drift)."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    current = time.time() if now is None else now
    return abs(current - int(timestamp)) <= MAX_AGE_SECONDS
