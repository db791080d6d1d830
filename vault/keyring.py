"""The master key ring from `WAVESTACK_SECRET_KEY`, and wrapping of data keys with it.

Format: comma-separated `kid:key` entries, `key` being 32 bytes in base64 (standard or
URL-safe, padding optional), `kid` 1-32 of `[A-Za-z0-9_-]`. The first entry wraps new
data keys; every entry unwraps. To rotate: put a new key first, run
`wavestack keys rotate-secrets` (re-wraps every data key with it), then drop the old one.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
KEY_BYTES = 32
NONCE_BYTES = 12


class VaultError(Exception):
    """Base of the vault's errors; messages never carry key material or plaintext."""


class InvalidKeyRing(VaultError):
    pass


class MissingKeyRing(VaultError):
    """WAVESTACK_SECRET_KEY is unset or not a key ring: a process that opens secrets
    cannot start (the CLI says so in one line)."""


def ring_from_setting(value: str | None, needed_for: str) -> KeyRing:
    """The ring in ``WAVESTACK_SECRET_KEY``; ``needed_for`` says what stops without it."""
    if value is None:
        raise MissingKeyRing(f"WAVESTACK_SECRET_KEY is not set: {needed_for}")
    try:
        return KeyRing.parse(value)
    except InvalidKeyRing as exc:  # its message never carries key material
        raise MissingKeyRing(f"WAVESTACK_SECRET_KEY is not a valid key ring ({exc})") from None


class UnknownKey(VaultError):
    """Wrapped by a key the ring no longer holds."""


class DecryptionFailed(VaultError):
    """Wrong key, wrong associated data (other org or connection), or tampered bytes."""


def decode_key(text: str) -> bytes:
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKeyRing("a key is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise InvalidKeyRing(f"a key must be {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def generate_entry(kid: str) -> str:
    """A new ring entry `kid:base64`, for operators creating or rotating a ring."""
    if not KID.match(kid):
        raise InvalidKeyRing("a key id is 1-32 of A-Z a-z 0-9 _ -")
    return f"{kid}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


def _binding(kid: str, org_id: str, connection_id: str) -> bytes:
    # Binds a wrapped key to its connection: a row copied onto another connection fails.
    return f"wavestack/data-key/v1\x00{kid}\x00{org_id}\x00{connection_id}".encode()


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted under ring key `kid`; `text` is what the key table stores."""

    kid: str
    blob: bytes = field(repr=False)  # nonce ‖ ciphertext+tag

    @property
    def text(self) -> str:
        return f"{self.kid}:{base64.b64encode(self.blob).decode()}"

    @classmethod
    def parse(cls, text: str) -> WrappedKey:
        kid, sep, b64 = text.partition(":")
        try:
            blob = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            blob = b""
        if not sep or not KID.match(kid) or len(blob) <= NONCE_BYTES:
            raise DecryptionFailed("not a wrapped data key")
        return cls(kid, blob)


class KeyRing:
    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise InvalidKeyRing("the key ring is empty")
        kids = [kid for kid, _ in keys]
        if len(set(kids)) != len(kids):
            raise InvalidKeyRing("a key id appears twice in the key ring")
        self._keys = dict(keys)
        self.primary = kids[0]

    def __repr__(self) -> str:
        return f"KeyRing(kids={list(self._keys)})"

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        keys = []
        for entry in (e.strip() for e in text.split(",")):
            kid, sep, key = entry.partition(":")
            if not sep or not KID.match(kid):
                raise InvalidKeyRing("each entry is kid:base64 with a kid of A-Z a-z 0-9 _ -")
            keys.append((kid, decode_key(key)))
        return cls(keys)

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    def wrap(self, data_key: bytes, org_id: str, connection_id: str) -> WrappedKey:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self._keys[self.primary]).encrypt(
            nonce, data_key, _binding(self.primary, org_id, connection_id)
        )
        return WrappedKey(self.primary, nonce + sealed)

    def unwrap(self, wrapped: WrappedKey, org_id: str, connection_id: str) -> bytes:
        key = self._keys.get(wrapped.kid)
        if key is None:
            raise UnknownKey(f"data key wrapped by {wrapped.kid!r}, which the ring lacks")
        nonce, sealed = wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:]
        try:
            return AESGCM(key).decrypt(nonce, sealed, _binding(wrapped.kid, org_id, connection_id))
        except InvalidTag:
            raise DecryptionFailed("the data key does not belong to this connection") from None

    def rewrap(self, wrapped: WrappedKey, org_id: str, connection_id: str) -> WrappedKey:
        """The same data key under the primary key (unchanged when it already is)."""
        if wrapped.kid == self.primary:
            return wrapped
        return self.wrap(self.unwrap(wrapped, org_id, connection_id), org_id, connection_id)
