"""Webhook rows are derived from the log: a rebuild folds them to the live checksum."""

from __future__ import annotations

import asyncpg

from projections.checksum import checksum
from projections.rebuild import rebuild
from tests.integration.projections.projection_support import drop_schemas_like
from tests.integration.webhooks.conftest import SCOPES, Headers
from tests.integration.webhooks.helpers import deliveries, make_project, subscribe
from tests.integration.webhooks.support import Answer, Receiver, Stack


async def test_a_rebuild_with_subscriptions_and_deliveries_has_the_live_checksum(
    stack: Stack, receiver: Receiver, bearer: Headers
) -> None:
    h = bearer(scopes=SCOPES)
    created = await subscribe(stack, h, receiver.url("rebuilt"))
    receiver.script["rebuilt"].append(Answer(500))
    await make_project(stack, h)
    rows = await deliveries(
        stack, h, created["id"], lambda items: bool(items) and items[0]["status"] == "delivered"
    )
    assert rows[0]["response_codes"] == [500, 200]
    await stack.client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=h)
    await stack.eventually(
        f"/v1/webhooks/{created['id']}", h, lambda s, b: b.get("secret_rotated_at") is not None
    )
    await stack.stop_delivery()
    for child in stack.children:
        await child.stop()

    db = await asyncpg.connect(
        stack.settings.dsn, server_settings={"search_path": stack.settings.db_schema}
    )
    try:
        live = await checksum(db, stack.settings.db_schema)
        summary = await rebuild(stack.settings, keep_old=False)
        assert summary.checksum == live
        row = await db.fetchrow("SELECT response_codes, attempts FROM webhook_deliveries")
        assert row is not None and row["attempts"] == 2
        hooks = await db.fetchval(
            "SELECT count(*) FROM webhooks WHERE secret_rotated_at IS NOT NULL"
        )
        assert hooks == 1
    finally:
        await drop_schemas_like(db, stack.settings.db_schema)
        await db.close()
