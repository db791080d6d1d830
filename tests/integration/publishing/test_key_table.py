"""The key table in PostgreSQL: stored once, opened only by its ring, rotated in place."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from vault import keytable
from vault.keyring import DecryptionFailed, KeyRing, generate_entry
from wavestack.settings import Settings


@pytest.fixture
async def conn(base_settings: Settings) -> AsyncIterator[tuple[asyncpg.Connection, str]]:
    schema = f"k_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(base_settings.dsn)
    await keytable.create_table(connection, schema)
    yield connection, schema
    await connection.execute(f'DROP SCHEMA "{keytable.key_schema(schema)}" CASCADE')
    await connection.close()


async def test_rotation_rewraps_every_key_and_the_credentials_still_open(
    conn: tuple[asyncpg.Connection, str],
) -> None:
    db, schema = conn
    old_entry = generate_entry("old")
    old = KeyRing.parse(old_entry)
    connection_id = str(uuid.uuid4())
    wrapped, sealed = keytable.seal_new(old, "org", connection_id, {"access_token": "t0k"})
    row = keytable.StoredConnection(connection_id, "org", "x", wrapped, sealed_credentials=sealed)
    assert await keytable.store(db, schema, row) is True
    assert await keytable.store(db, schema, row) is False  # once per connection

    new_entry = generate_entry("new")
    both = KeyRing.parse(f"{new_entry},{old_entry}")
    assert await keytable.rewrap_all(db, schema, both) == 1
    assert await keytable.rewrap_all(db, schema, both) == 0

    stored = await keytable.load(db, schema, connection_id)
    assert stored is not None and stored.wrapped_key.kid == "new"
    only_new = KeyRing.parse(new_entry)
    assert keytable.open_credentials(stored, only_new) == {"access_token": "t0k"}


async def test_a_row_moved_to_another_organization_does_not_open(
    conn: tuple[asyncpg.Connection, str],
) -> None:
    db, schema = conn
    ring = KeyRing.parse(generate_entry("k"))
    connection_id = str(uuid.uuid4())
    wrapped, sealed = keytable.seal_new(ring, "org-a", connection_id, {"url": "u"})
    row = keytable.StoredConnection(connection_id, "org-b", "webhook", wrapped, sealed)
    await keytable.store(db, schema, row)
    stored = await keytable.load(db, schema, connection_id)
    assert stored is not None
    with pytest.raises(DecryptionFailed):
        keytable.open_credentials(stored, ring)
    assert await keytable.destroy(db, schema, connection_id) is True
    assert await keytable.load(db, schema, connection_id) is None
