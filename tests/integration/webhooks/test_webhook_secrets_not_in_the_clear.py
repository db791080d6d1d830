"""No webhook secret in the clear anywhere but the create and rotate answers.

A sibling of tests/e2e/test_no_secret_in_the_clear.py: every record of every topic of
the test's prefix, every row of the read model, the key table and the delivery
process's tables, every read answer and the processes' output.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from streams.webhooks.store import schema_of
from tests.e2e.cleartext import Haystack, read_tables, read_topics
from tests.integration.webhooks.conftest import SCOPES, Headers
from tests.integration.webhooks.helpers import (
    deliveries,
    known_to_delivery,
    make_project,
    subscribe,
)
from tests.integration.webhooks.support import Receiver, Stack
from vault import keytable


async def test_no_webhook_secret_is_on_the_log_in_the_read_model_or_in_any_read_answer(
    stack: Stack,
    receiver: Receiver,
    bearer: Headers,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    h = bearer(scopes=SCOPES + " audit:read")
    created = await subscribe(stack, h, receiver.url("clear"))
    rotated = await stack.client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=h)
    new = (await rotated.json())["secret"]
    await known_to_delivery(stack, uuid.UUID(created["id"]), version=2)
    await make_project(stack, h)
    [request] = await receiver.wait_for("clear")
    request.verified(new)
    await deliveries(stack, h, created["id"], lambda items: bool(items))

    secrets = [created["secret"], new]
    # The raw base64 of the key as well: a secret copied without its whsec_ prefix.
    needles = [*secrets, *(s.removeprefix("whsec_") for s in secrets)]
    hay = Haystack()
    settings = stack.settings
    topics = await read_topics(settings.kafka_bootstrap, settings.topic_prefix, hay)
    assert settings.topics.events in topics and hay.count("topic ") > 10
    schemas = [
        settings.db_schema,
        keytable.key_schema(settings.db_schema),
        schema_of(settings.db_schema),
    ]
    await read_tables(settings.dsn, schemas, hay)
    assert hay.count(f"table {schema_of(settings.db_schema)}.due") == 1
    for path in (
        "/v1/webhooks",
        f"/v1/webhooks/{created['id']}",
        f"/v1/webhooks/{created['id']}/deliveries",
        "/v1/audit?limit=200",
    ):
        answer = await stack.client.get(path, headers=h)
        assert answer.status == 200
        hay.add(f"answer {path}", await answer.read())
    for child in stack.children:
        hay.add(f"log {child.log_path.name}", child.output().encode())
    hay.add("log delivery process", capfd.readouterr().out.encode())

    assert hay.find(needles) == []
    # The search would have found them: the receiver's copy holds the signature made
    # with them, and the create answer itself is the one place a secret is shown.
    assert Haystack(blobs={"answer": [str(created).encode()]}).find(needles)
