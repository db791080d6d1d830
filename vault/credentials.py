"""Sealing a connection's credentials under its data key, bound to org and connection.

Only the sealed text goes on the log. Destroying the data key (deleting the connection)
makes every copy of it on the log unreadable for good: crypto-shredding.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault.keyring import KEY_BYTES, NONCE_BYTES, DecryptionFailed

PREFIX = "v1:"


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _associated(org_id: str, connection_id: str) -> bytes:
    return f"wavestack/credentials/v1\x00{org_id}\x00{connection_id}".encode()


def seal(data_key: bytes, credentials: Mapping[str, str], org_id: str, connection_id: str) -> str:
    plaintext = json.dumps(dict(credentials), separators=(",", ":"), sort_keys=True).encode()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(nonce, plaintext, _associated(org_id, connection_id))
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def unseal(data_key: bytes, sealed: str, org_id: str, connection_id: str) -> dict[str, str]:
    if not sealed.startswith(PREFIX):
        raise DecryptionFailed("not sealed credentials")
    try:
        blob = base64.b64decode(sealed[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionFailed("not sealed credentials") from None
    nonce, ciphertext = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    try:
        cipher = AESGCM(data_key)  # a key of the wrong length raises ValueError too
        plaintext = cipher.decrypt(nonce, ciphertext, _associated(org_id, connection_id))
    except (InvalidTag, ValueError):
        raise DecryptionFailed(
            "credentials do not open with this key for this connection"
        ) from None
    value = json.loads(plaintext)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise DecryptionFailed("sealed credentials are not a string mapping")
    return value
