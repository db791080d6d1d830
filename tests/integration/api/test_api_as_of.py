"""``?as_of=T``: list and get routes read the point-in-time model an operator built for T."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from projections.pointintime import PointInTimeRefused, build_as_of, catalog_schema
from tests.integration.projections.projection_support import (
    cancelled,
    drop_schemas_like,
    enqueued,
    produce_events,
    project_created,
    projector_running,
    wait_caught_up,
)
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]


async def ids_and_status(
    client: TestClient[Any, Any], headers: dict[str, str], **params: str
) -> set[tuple[str, str]]:
    resp = await client.get("/v1/queue", params=params, headers=headers)
    assert resp.status == 200, await resp.text()
    return {(i["id"], i["status"]) for i in (await resp.json())["items"]}


async def refused_on_as_of(client: TestClient[Any, Any], path: str, headers: Any, at: str) -> str:
    resp = await client.get(path, params={"as_of": at}, headers=headers)
    assert resp.status == 422, await resp.text()
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["errors"][0]["loc"] == ["query", "as_of"]
    detail: str = body["detail"]
    return detail


@pytest.mark.slow  # a projector run and a point-in-time bulk load, then many reads
async def test_as_of_reads_the_model_an_operator_built_for_that_time_and_only_that(
    settings: Settings, db: asyncpg.Connection, client: TestClient[Any, Any], bearer: Headers
) -> None:
    early, late, theirs, project = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await produce_events(
        settings,
        [
            enqueued(early, org_id="org-a"),
            enqueued(theirs, org_id="org-b"),
            project_created(project, "then", org_id="org-a"),
        ],
    )
    await asyncio.sleep(0.05)
    then = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await produce_events(
        settings, [cancelled(early, 2, org_id="org-a"), enqueued(late, org_id="org-a")]
    )
    past = f"{settings.db_schema}_then"
    try:
        async with projector_running(settings):
            await wait_caught_up(settings, db)
        await build_as_of(settings, past, then)
        mine, other = bearer(), bearer(org="org-b")
        # The same instant in another offset names the same model.
        at = then.astimezone(timezone(timedelta(hours=2))).isoformat()

        assert await ids_and_status(client, mine, as_of=at) == {(str(early), "scheduled")}
        assert await ids_and_status(client, mine) == {
            (str(early), "cancelled"),
            (str(late), "scheduled"),
        }
        one = await client.get(f"/v1/queue/{early}", params={"as_of": at}, headers=mine)
        assert one.status == 200 and (await one.json())["status"] == "scheduled"
        missing = await client.get(f"/v1/queue/{late}", params={"as_of": at}, headers=mine)
        assert missing.status == 404  # not yet enqueued then
        projects = await client.get("/v1/projects", params={"as_of": at}, headers=mine)
        assert [p["name"] for p in (await projects.json())["items"]] == ["then"]

        # Another organization sees only its own, in the past model too.
        assert await ids_and_status(client, other, as_of=at) == {(str(theirs), "scheduled")}
        foreign = await client.get(f"/v1/queue/{early}", params={"as_of": at}, headers=other)
        assert foreign.status == 404
        foreign_project = await client.get(
            f"/v1/projects/{project}", params={"as_of": at}, headers=other
        )
        assert foreign_project.status == 404

        # Every list and get route that takes as_of answers from the model.
        for path in ("/v1/posts", "/v1/clips", "/v1/assets", "/v1/projects", "/v1/connections"):
            resp = await client.get(path, params={"as_of": at, "limit": "5"}, headers=mine)
            assert resp.status == 200, (path, await resp.text())
            got = await client.get(f"{path}/{uuid.uuid4()}", params={"as_of": at}, headers=mine)
            assert got.status == 404, path
        audit = await client.get(
            "/v1/audit", params={"as_of": at}, headers=bearer(scopes="audit:read")
        )
        assert {e["aggregate_id"] for e in (await audit.json())["items"]} == {
            str(early),
            str(project),
        }

        # The pinned schema never leaks into a pooled session: live reads stay live,
        # also when they run at the same time as past ones.
        answers = await asyncio.gather(
            *(ids_and_status(client, mine, **({"as_of": at} if n % 2 else {})) for n in range(20))
        )
        assert all(len(a) == (1 if n % 2 else 2) for n, a in enumerate(answers))

        # Only the times an operator built: not a second later, not a schema's name.
        later = (then + timedelta(seconds=1)).isoformat()
        assert "no point-in-time read model" in await refused_on_as_of(
            client, "/v1/queue", mine, later
        )
        await refused_on_as_of(client, f"/v1/queue/{early}", mine, later)
        await refused_on_as_of(client, "/v1/queue", mine, past)
        await refused_on_as_of(client, "/v1/queue", mine, then.replace(tzinfo=None).isoformat())
        await refused_on_as_of(client, "/v1/queue", mine, "0001-01-01T00:00:00+14:00")
        schema_param = await client.get("/v1/queue", params={"schema": past}, headers=mine)
        assert schema_param.status == 422

        # A second model for the same time is refused while the first exists.
        with pytest.raises(PointInTimeRefused, match="already holds"):
            await build_as_of(settings, f"{settings.db_schema}_again", then)

        # A model built before the read model's latest migration is not served.
        catalog = catalog_schema(settings.db_schema)
        await db.execute(
            f'UPDATE "{catalog}".models SET migrations = migrations[1:cardinality(migrations) - 1]'
        )
        assert "built before the latest migration" in await refused_on_as_of(
            client, "/v1/queue", mine, at
        )

        # Dropped by the operator: gone from the API too.
        await db.execute(f'DROP SCHEMA "{past}" CASCADE')
        await refused_on_as_of(client, "/v1/queue", mine, at)
    finally:
        await drop_schemas_like(db, settings.db_schema)


async def test_as_of_before_the_read_model_is_migrated_is_a_503_like_any_read(
    client_factory: Callable[..., Any], bearer: Headers, unique: str
) -> None:
    client = await client_factory(db_schema=f"t_{unique}_never_migrated")
    resp = await client.get("/v1/queue", params={"as_of": "2026-01-01T00:00:00Z"}, headers=bearer())
    assert resp.status == 503, await resp.text()
    assert (await resp.json())["dependency"] == "postgresql"
