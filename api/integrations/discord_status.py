"""/status: one queue item's or clip's status, or the organization's counts by status."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from api.appkeys import DATABASE
from api.auth.principal import Principal

COUNTS = "SELECT status, count(*) AS n FROM {table} WHERE org_id = $1 GROUP BY status"
ONE = "SELECT status, title FROM {table} WHERE org_id = $1 AND id = $2"


def _counts(rows: list[Any]) -> str:
    return ", ".join(f"{r['n']} {r['status']}" for r in sorted(rows, key=lambda r: r["status"]))


async def status_text(app: web.Application, who: Principal, opts: dict[str, Any]) -> str:
    db = app[DATABASE]
    wanted = opts.get("id")
    if wanted is None:
        queue = await db.fetch(COUNTS.format(table="queue_items"), who.org_id)
        clips = await db.fetch(COUNTS.format(table="clips"), who.org_id)
        return f"Queue: {_counts(queue) or 'empty'}. Clips: {_counts(clips) or 'none'}."
    try:
        target = uuid.UUID(str(wanted))
    except ValueError:
        return "Give the id of a queue item or a clip."
    for table, what in (("queue_items", "Queue item"), ("clips", "Clip")):
        row = await db.fetchrow(ONE.format(table=table), who.org_id, target)
        if row is not None:
            title = f" “{row['title']}”" if row["title"] else ""
            return f"{what}{title} {target}: {row['status']}."
    return f"No queue item or clip {target} in this organization."
