"""Authentication: RSA key store, token issuing, RS256 verification, external JWKS."""
