"""Persistent RSA signing keys: one PEM file per key id, an `active` pointer, rotation."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

log = structlog.get_logger(__name__)

KEY_SUFFIX = ".key.pem"
ACTIVE_FILE = "active"
LOCK_FILE = ".lock"
KEY_BITS = 2048
RECENT_CHANGE_NS = 2_000_000_000
# A kid names a file, so it must not carry path syntax.
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: rsa.RSAPublicKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key))
    return {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}


def thumbprint(key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint: a key id that follows from the key itself."""
    canonical = json.dumps(public_jwk(key), sort_keys=True, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


class KeyStore:
    """Signing keys in ``directory`` (mode 0700; private keys 0600).

    Old keys are never deleted by rotation, so tokens they signed keep verifying
    until they expire; ``jwks()`` publishes every public key. Parsed keys are cached.
    """

    def __init__(self, directory: Path, first_kid: str | None = None) -> None:
        if first_kid is not None and not KID_PATTERN.match(first_kid):
            raise ValueError(f"key id {first_kid!r} must match {KID_PATTERN.pattern}")
        self.directory = Path(directory)
        # The seed system's AUTH_KEY_ID: the name given to the first key of an empty store.
        self._first_kid = first_kid
        self._private: dict[str, rsa.RSAPrivateKey] = {}
        self._public: dict[str, rsa.RSAPublicKey] = {}
        self._scanned_mtime: int | None = None
        self._mutex = threading.Lock()

    def public_key(self, kid: str) -> rsa.RSAPublicKey | None:
        key = self._public.get(kid)
        if key is None:
            # Another process (`wavestack keys rotate`) may have added it. A flood of
            # made-up kids costs one stat() each, never a directory scan.
            self._scan()
            key = self._public.get(kid)
        return key

    def jwks(self) -> dict[str, Any]:
        self._scan()
        return {
            "keys": [
                {**public_jwk(self._public[kid]), "kid": kid, "use": "sig", "alg": "RS256"}
                for kid in sorted(self._public)
            ]
        }

    def active_kid(self) -> str:
        """The key new tokens are signed with; creates the first key of an empty store."""
        pointer = self.directory / ACTIVE_FILE
        with contextlib.suppress(FileNotFoundError):
            kid = pointer.read_text().strip()
            if kid and (self.directory / f"{kid}{KEY_SUFFIX}").exists():
                return kid
        with self._locked():
            self._scan(force=True)
            if self._first_kid and self._first_kid in self._private:
                kid = self._first_kid
            elif self._private:
                # A pointer lost or never written: newest key file wins.
                kid = max(self._private, key=self._mtime)
            else:
                kid = self._create(self._first_kid)
            self._point_at(kid)
            return kid

    def signing_key(self) -> tuple[str, rsa.RSAPrivateKey]:
        kid = self.active_kid()
        key = self._private.get(kid)
        if key is None:
            self._scan(force=True)
            key = self._private[kid]
        return kid, key

    def rotate(self) -> str:
        """Adds a new key and makes it active; returns its kid. Old keys stay published."""
        with self._locked():
            kid = self._create(None)
            self._point_at(kid)
        log.info("signing key rotated", kid=kid, keys_dir=str(self.directory))
        return kid

    # -- files ----------------------------------------------------------------

    def _ensure_dir(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialises key creation across threads and processes (API, CLI, dev runner)."""
        self._ensure_dir()
        with self._mutex, open(self.directory / LOCK_FILE, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _create(self, kid: str | None) -> str:
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        kid = kid or thumbprint(key.public_key())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        final = self.directory / f"{kid}{KEY_SUFFIX}"
        tmp = self.directory / f".{kid}.tmp"
        # Created 0600 from the first byte (no chmod window), then renamed into place
        # so a reader never sees half a key.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, final)
        self._private[kid] = key
        self._public[kid] = key.public_key()
        return kid

    def _point_at(self, kid: str) -> None:
        tmp = self.directory / f".{ACTIVE_FILE}.tmp"
        tmp.write_text(kid + "\n")
        os.replace(tmp, self.directory / ACTIVE_FILE)

    def _mtime(self, kid: str) -> float:
        return (self.directory / f"{kid}{KEY_SUFFIX}").stat().st_mtime

    def _scan(self, *, force: bool = False) -> None:
        """Loads key files not loaded yet. Unless ``force``d, only when the directory
        changed since the last scan (a key added or rotated in by any process changes
        its mtime), so a request costs one stat(), not a glob and a parse."""
        try:
            mtime = self.directory.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if not force and mtime == self._scanned_mtime:
            return
        # A change within the file system's timestamp granularity could leave the mtime
        # as it is: a directory changed a moment ago is scanned again next time.
        fresh = time.time_ns() - mtime < RECENT_CHANGE_NS
        self._scanned_mtime = None if fresh else mtime
        for path in self.directory.glob(f"*{KEY_SUFFIX}"):
            kid = path.name.removesuffix(KEY_SUFFIX)
            if kid in self._private:
                continue
            if path.stat().st_mode & 0o077:
                log.warning("private key readable by others; chmod 600 it", path=str(path))
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except (ValueError, TypeError) as exc:
                log.error("unreadable key file skipped", path=str(path), error=str(exc))
                continue
            if not isinstance(key, rsa.RSAPrivateKey):
                log.error("key file is not an RSA key; skipped", path=str(path))
                continue
            self._private[kid] = key
            self._public[kid] = key.public_key()
