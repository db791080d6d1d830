"""Credential sealing and the key ring: what reaches the log can't be read without both keys."""

from __future__ import annotations

import base64

import pytest

from vault.credentials import new_data_key, seal, unseal
from vault.keyring import (
    DecryptionFailed,
    InvalidKeyRing,
    KeyRing,
    UnknownKey,
    WrappedKey,
    generate_entry,
)

CREDENTIALS = {"url": "https://hooks.example.com/x", "secret": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="}


def test_sealed_credentials_round_trip() -> None:
    key = new_data_key()
    sealed = seal(key, CREDENTIALS, "org-1", "conn-1")
    assert unseal(key, sealed, "org-1", "conn-1") == CREDENTIALS


def test_ciphertext_never_contains_the_plaintext() -> None:
    sealed = seal(new_data_key(), CREDENTIALS, "org-1", "conn-1")
    decoded = base64.b64decode(sealed.removeprefix("v1:"))
    for value in CREDENTIALS.values():
        assert value not in sealed
        assert value.encode() not in decoded
    assert b"secret" not in decoded


def test_sealing_twice_gives_different_ciphertexts() -> None:
    key = new_data_key()
    assert seal(key, CREDENTIALS, "o", "c") != seal(key, CREDENTIALS, "o", "c")


@pytest.mark.parametrize(("org", "connection"), [("org-2", "conn-1"), ("org-1", "conn-2")])
def test_other_org_or_connection_in_associated_data_fails(org: str, connection: str) -> None:
    key = new_data_key()
    sealed = seal(key, CREDENTIALS, "org-1", "conn-1")
    with pytest.raises(DecryptionFailed):
        unseal(key, sealed, org, connection)


def test_destroyed_data_key_makes_the_ciphertext_unrecoverable() -> None:
    ring = KeyRing.parse(generate_entry("k1"))
    key = new_data_key()
    sealed = seal(key, CREDENTIALS, "org-1", "conn-1")
    del key  # what deleting the connection's key row amounts to
    # Neither a fresh data key nor the master keys themselves open it.
    with pytest.raises(DecryptionFailed):
        unseal(new_data_key(), sealed, "org-1", "conn-1")
    with pytest.raises(DecryptionFailed):
        unseal(ring._keys["k1"], sealed, "org-1", "conn-1")


def test_tampered_ciphertext_fails() -> None:
    key = new_data_key()
    sealed = seal(key, CREDENTIALS, "o", "c")
    raw = bytearray(base64.b64decode(sealed[3:]))
    raw[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        unseal(key, "v1:" + base64.b64encode(bytes(raw)).decode(), "o", "c")


def test_wrapped_data_key_unwraps_only_for_its_connection() -> None:
    ring = KeyRing.parse(generate_entry("k1"))
    key = new_data_key()
    wrapped = WrappedKey.parse(ring.wrap(key, "org-1", "conn-1").text)
    assert wrapped.kid == "k1"
    assert ring.unwrap(wrapped, "org-1", "conn-1") == key
    with pytest.raises(DecryptionFailed):
        ring.unwrap(wrapped, "org-1", "conn-2")


def test_rotation_rewraps_so_the_old_key_can_be_dropped() -> None:
    old = generate_entry("old")
    key = new_data_key()
    wrapped = KeyRing.parse(old).wrap(key, "o", "c")
    new = generate_entry("new")
    both = KeyRing.parse(f"{new},{old}")
    assert both.primary == "new"
    assert both.unwrap(wrapped, "o", "c") == key  # every key decrypts
    rewrapped = both.rewrap(wrapped, "o", "c")
    assert rewrapped.kid == "new"
    assert both.rewrap(rewrapped, "o", "c") is rewrapped
    only_new = KeyRing.parse(new)
    assert only_new.unwrap(rewrapped, "o", "c") == key
    with pytest.raises(UnknownKey):
        only_new.unwrap(wrapped, "o", "c")


def test_key_ring_accepts_url_safe_unpadded_keys() -> None:
    raw = bytes(range(32))
    text = "a:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert KeyRing.parse(text)._keys["a"] == raw


@pytest.mark.parametrize(
    "text",
    [
        "",
        "k1",
        "k1:",
        "k1:c2hvcnQ=",
        "bad kid:" + base64.b64encode(bytes(32)).decode(),
        "a:" + base64.b64encode(bytes(32)).decode() + ",a:" + base64.b64encode(bytes(32)).decode(),
    ],
)
def test_malformed_key_rings_are_refused(text: str) -> None:
    with pytest.raises(InvalidKeyRing):
        KeyRing.parse(text)


def test_key_ring_repr_shows_no_key_material() -> None:
    entry = generate_entry("k1")
    assert entry.split(":")[1] not in repr(KeyRing.parse(entry))
