"""A throwaway private PostgreSQL 15 cluster that accepts TCP clients over TLS only.

Like the dev stack's cluster (deploy/scripts/stack.sh: Debian's binaries, initdb, run
as the postgres user when we are root), plus ``ssl=on`` with a test CA's certificate
and a pg_hba.conf whose only TCP line is ``hostssl``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.integration.security.certs import ServerPem, make_server_pem
from tests.processes import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if os.getuid() == 0 else argv


@dataclass
class TlsPostgres:
    folder: Path
    port: int
    pem: ServerPem

    def dsn(self, query: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres?{query}"

    @property
    def verify_full(self) -> str:
        return self.dsn(f"sslmode=verify-full&sslrootcert={self.pem.cafile}")

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        data = self.folder / "data"
        initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        initdb += ["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
        subprocess.run(_as_postgres(initdb), check=True, capture_output=True, timeout=60)
        # TCP only through TLS; the socket in our folder for pg_ctl's own checks.
        (data / "pg_hba.conf").write_text(
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n"
        )
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c ssl=on -c ssl_cert_file={self.pem.certfile} -c ssl_key_file={self.pem.keyfile}"
        )
        self._pg_ctl(
            "-l", str(self.folder / "server.log"), "-w", "-t", "30", "-o", options, "start"
        )

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate", "-w", "stop")


def new_tls_postgres() -> TlsPostgres:
    # Not under pytest's tmp_path: its parent is root's, closed to the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="wavestack-pgtls-"))
    pem = make_server_pem(folder)
    if os.getuid() == 0:
        for path in (folder, pem.cafile, pem.certfile, pem.keyfile):
            shutil.chown(path, "postgres", "postgres")
    return TlsPostgres(folder, free_port(), pem)
