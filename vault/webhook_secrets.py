"""Signing secrets of outbound webhook subscriptions, derived from their data keys.

A subscription has a data key in the key table (like a connection; ``platform`` =
``SUBSCRIPTION_KIND``). Each of its secrets is HMAC-SHA256(data key, binding of org,
subscription and the id of the command that made the secret): the API shows it once
(and again, identically, to a retry with the same Idempotency-Key), the delivery
process derives it when signing, and nothing secret ever goes on the log. Destroying
the data key (DELETE) makes every secret it ever had underivable: crypto-shredding.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from vault import keytable
from vault.keyring import KeyRing

SUBSCRIPTION_KIND = "outbound-webhook"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
# The key table row must hold sealed text; it proves the row opens for this
# subscription (org and id are bound into it) and holds nothing else.
ROW_MARKER = {"purpose": "webhook-signing"}


def derive_secret(data_key: bytes, org_id: str, subscription_id: str, command_id: uuid.UUID) -> str:
    binding = f"wavestack/webhook-secret/v1\x00{org_id}\x00{subscription_id}\x00{command_id}"
    digest = hmac.new(data_key, binding.encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(digest).decode()


def new_row(ring: KeyRing, org_id: str, subscription_id: str) -> keytable.StoredConnection:
    wrapped, sealed = keytable.seal_new(ring, org_id, subscription_id, ROW_MARKER)
    return keytable.StoredConnection(
        subscription_id, org_id, SUBSCRIPTION_KIND, wrapped, sealed_credentials=sealed
    )


def data_key(stored: keytable.StoredConnection, ring: KeyRing) -> bytes:
    """The row's data key, checked against its sealed marker (vault errors otherwise)."""
    keytable.open_credentials(stored, ring)
    return ring.unwrap(stored.wrapped_key, stored.org_id, stored.connection_id)
