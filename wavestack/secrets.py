"""The secret key ring's operator side: the key table, rotation, and `make dev`'s local ring."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg
import structlog

from vault import inbound, keytable
from vault.keyring import InvalidKeyRing, KeyRing, generate_entry
from wavestack.errors import UserError
from wavestack.settings import Settings

# `wavestack dev`'s ring when WAVESTACK_SECRET_KEY is unset: made once, owner-only.
DEV_SECRET_KEY_FILE = Path(".stack/secret-key")

log = structlog.get_logger("wavestack.secrets")


async def create_key_table(settings: Settings) -> int:
    conn = await asyncpg.connect(settings.dsn)
    try:
        await keytable.create_table(conn, settings.db_schema)
    finally:
        await conn.close()
    log.info("key table ready", schema=keytable.key_schema(settings.db_schema))
    return 0


def ring_of(settings: Settings) -> KeyRing:
    if settings.secret_key is None:
        raise UserError("WAVESTACK_SECRET_KEY is not set")
    try:
        return KeyRing.parse(settings.secret_key.get_secret_value())
    except InvalidKeyRing as exc:
        raise UserError(f"WAVESTACK_SECRET_KEY: {exc}") from None


async def rotate_secrets(settings: Settings) -> int:
    """Re-wraps every data key with the ring's first key (sealed credentials unchanged)."""
    ring = ring_of(settings)
    conn = await asyncpg.connect(settings.dsn)
    try:
        await keytable.create_table(conn, settings.db_schema)
        changed = await keytable.rewrap_all(conn, settings.db_schema, ring)
        # Twitch integrations' secrets are wrapped by the same ring (vault/inbound.py).
        await inbound.create_tables(conn, settings.db_schema)
        changed += await inbound.rewrap_secrets(conn, settings.db_schema, ring)
    finally:
        await conn.close()
    print(f"re-wrapped {changed} data key(s) with {ring.primary!r}")
    return 0


def dev_secret_key(path: Path = DEV_SECRET_KEY_FILE) -> str:
    """The local ring for `wavestack dev`, generated on first use (mode 0600)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = generate_entry("dev1")
    # O_EXCL: two dev runs starting together can't overwrite each other's ring; the
    # one that loses the race reads the winner's.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(entry + "\n")
    return entry
