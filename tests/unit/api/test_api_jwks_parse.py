"""Which members of an identity provider's JWKS document become verification keys."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from api.auth.jwks import parse_jwks


def rsa_jwk(kid: str, **extra: str) -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, **extra}


def test_rs256_signing_keys_are_kept_by_kid() -> None:
    keys = parse_jwks({"keys": [rsa_jwk("a"), rsa_jwk("b", alg="RS256", use="sig")]})
    assert set(keys) == {"a", "b"}
    assert all(isinstance(k, rsa.RSAPublicKey) for k in keys.values())


def test_encryption_keys_other_algorithms_and_kidless_keys_are_ignored() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    doc = {
        "keys": [
            rsa_jwk("enc", use="enc"),
            rsa_jwk("ps", alg="PS256"),
            {**json.loads(ECAlgorithm.to_jwk(ec_key)), "kid": "ec"},
            {k: v for k, v in rsa_jwk("x").items() if k != "kid"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            "not a key",
        ]
    }
    assert parse_jwks(doc) == {}


def test_a_private_member_in_the_document_still_yields_only_a_public_key() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaked = {**json.loads(RSAAlgorithm.to_jwk(private)), "kid": "leaky"}
    assert "d" in leaked
    assert isinstance(parse_jwks({"keys": [leaked]})["leaky"], rsa.RSAPublicKey)
