"""PostgreSQL TLS is the DSN's business: every place that connects passes it on as given.

Against a private cluster that accepts TCP clients only over TLS: ``sslmode`` and
``sslrootcert`` in ``WAVESTACK_DATABASE_URL`` decide, for the projections' connections,
the API's pool and the CLI alike.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from api.backends.errors import Unavailable
from api.backends.postgres import Database
from projections.db import connect
from tests.integration.security.certs import make_server_pem
from tests.integration.security.pgtls import TlsPostgres, new_tls_postgres
from tests.processes import settings_env
from vault.keyring import generate_entry
from wavestack.settings import Settings

pytestmark = pytest.mark.slow

ON_TLS = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[TlsPostgres]:
    server = new_tls_postgres()
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(server.folder, ignore_errors=True)


async def test_the_projections_and_the_api_connect_over_verified_tls(
    tls_postgres: TlsPostgres,
) -> None:
    conn = await connect(tls_postgres.verify_full, "public", purpose="tls-check")
    try:
        assert await conn.fetchval(ON_TLS) is True
    finally:
        await conn.close()
    database = Database(tls_postgres.verify_full, "public")
    try:
        assert [r["ssl"] for r in await database.fetch(ON_TLS)] == [True]
    finally:
        await database.close()


async def test_the_cli_migrates_over_tls(tls_postgres: TlsPostgres, tmp_path: Path) -> None:
    settings = Settings(
        database_url=tls_postgres.verify_full,
        db_schema="tls_read_model",
        secret_key=generate_entry("tls1"),
        auth_keys_dir=tmp_path / "keys",
    )
    done = subprocess.run(
        [sys.executable, "-m", "wavestack.cli", "migrate"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    conn = await connect(tls_postgres.verify_full, "tls_read_model", purpose="tls-check")
    try:
        assert await conn.fetchval("SELECT count(*) FROM commands") == 0
    finally:
        await conn.close()


async def test_a_dsn_that_turns_tls_off_is_refused(tls_postgres: TlsPostgres) -> None:
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await connect(tls_postgres.dsn("sslmode=disable"), "public", purpose="tls-check")
    database = Database(tls_postgres.dsn("sslmode=disable"), "public")
    try:
        with pytest.raises(Unavailable):
            await database.fetch(ON_TLS)
    finally:
        await database.close()


async def test_a_server_certificate_from_another_ca_is_refused(tls_postgres: TlsPostgres) -> None:
    other = Path(tempfile.mkdtemp(prefix="wavestack-otherca-"))
    try:
        stranger = make_server_pem(other).cafile
        dsn = tls_postgres.dsn(f"sslmode=verify-full&sslrootcert={stranger}")
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
            await connect(dsn, "public", purpose="tls-check")
    finally:
        shutil.rmtree(other, ignore_errors=True)
