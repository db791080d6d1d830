"""`wavestack checksum`: per table of a read model its row count and digest, and the total.

Compare the output for the live schema and a rebuilt one (`--schema`): equal totals
mean equal content; otherwise the table lines say where they differ.
"""

from __future__ import annotations

import json

from projections.checksum import schema_exists, table_checksums
from projections.db import connect
from wavestack.errors import UserError
from wavestack.settings import Settings


async def checksum(settings: Settings, schema: str | None, as_json: bool) -> int:
    name = schema or settings.db_schema
    conn = await connect(settings.dsn, name, purpose="checksum")
    try:
        if not await schema_exists(conn, name):
            raise UserError(f"schema {name!r} does not exist")
        tables, total = await table_checksums(conn, name)
    finally:
        await conn.close()
    if as_json:
        print(
            json.dumps(
                {
                    "schema": name,
                    "checksum": total,
                    "tables": [
                        {"table": t.table, "rows": t.rows, "digest": t.digest} for t in tables
                    ],
                }
            )
        )
        return 0
    width = max((len(t.table) for t in tables), default=5)
    print(f"{'TABLE':<{width}} {'ROWS':>10}  DIGEST")
    for t in tables:
        print(f"{t.table:<{width}} {t.rows:>10}  {t.digest}")
    print(f"{'total':<{width}} {sum(t.rows for t in tables):>10}  {total}  (schema {name})")
    return 0
