"""Every status a route answers is in the OpenAPI document: each route, each error class.

For every route of the table, requests that trigger the errors its kind can have
(no token, a token without the scope, a malformed id, bad and foreign cursors, an
as_of nobody built, malformed JSON, not JSON, a body over the limit, a missing
Idempotency-Key, the rate limit, PostgreSQL and Kafka down) are sent to a real app;
every answer's status must be listed for that route, and never a 500. The other way
round, the statuses those probes are meant to produce must have been seen.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from api.commands.body import MAX_BODY_BYTES
from api.reads import asof
from api.reads.paging import encode_cursor
from api.routes import ROUTES, Route
from tests.processes import free_port

Factory = Callable[..., Awaitable[TestClient[Any, Any]]]
TokenFactory = Callable[..., str]

SCOPES = (
    "queue:write clips:write projects:write assets:write read audit:read connections:write "
    "webhooks:write integrations:write"
)
TUS = {"Tus-Resumable": "1.0.0"}
QUEUE_CURSOR = encode_cursor(f"2026-01-01T00:00:00+00:00|{uuid.UUID(int=1)}")
AUDIT_CURSOR = encode_cursor(["2026-01-01T00:00:00+00:00", 1, str(uuid.UUID(int=1))])


@dataclass
class Probe:
    what: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    token: str | None = "all"  # "all", "none" (a token without the scope) or None
    path: str | None = None  # instead of the route's concrete path
    expect: int | None = None  # the status this probe is meant to produce


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: "tok" * 10 if m[1] == "token" else str(uuid.uuid4()), path)


def is_command(route: Route) -> bool:
    """Routes that put a command on the log: throttled per organization."""
    return route.scope is not None and (
        route.body is not None or route.idempotency is not None or route.method == "POST"
    )


def probes(route: Route) -> list[Probe]:
    base: dict[str, str] = dict(TUS) if route.wrap is not None else {}
    if route.body is not None:
        base |= {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    out = [Probe("plain", headers=base, body=b"{}" if route.body is not None else None)]
    if route.scope is not None:
        out += [
            Probe("no token", headers=base, token=None, expect=401),
            Probe("no scope", headers=base, token="none", expect=403),
        ]
    if route.wrap is not None and route.method != "OPTIONS":
        out.append(Probe("no Tus-Resumable", expect=412))
    if "{" in route.path:
        bad_id = re.sub(r"{id}", "not-a-uuid", route.path, count=1)
        out.append(Probe("malformed id", headers=base, path=concrete(bad_id)))
    if route.query is not None:
        foreign = AUDIT_CURSOR if route.path != "/v1/audit" else QUEUE_CURSOR
        out += [
            Probe("garbage cursor", params={"cursor": "%%%"}, expect=422),
            Probe("foreign cursor", params={"cursor": foreign}, expect=422),
            Probe("unknown parameter", params={"org_id": "org-b"}, expect=422),
            Probe("limit 0", params={"limit": "0"}, expect=422),
        ]
    if route.handler in asof.SUPPORTED:
        out += [
            Probe("as_of nobody built", params={"as_of": "2001-01-01T00:00:00Z"}, expect=422),
            Probe("as_of not a time", params={"as_of": "yesterday"}, expect=422),
        ]
    if route.body is not None:
        json_headers = {k: v for k, v in base.items() if k != "Content-Type"}
        out += [
            Probe("malformed JSON", headers=base, body=b"{", expect=400),
            Probe("not JSON", headers=json_headers | {"Content-Type": "text/plain"}, body=b"x"),
            Probe("too large", headers=base, body=b" " * (MAX_BODY_BYTES + 1), expect=413),
            Probe("invalid fields", headers=base, body=b'{"nope": 1}', expect=422),
        ]
        out[-3].expect = 415
        if route.idempotency == "required":
            no_key = {k: v for k, v in base.items() if k != "Idempotency-Key"}
            out.append(Probe("no Idempotency-Key", headers=no_key, body=b"{}", expect=400))
    return out


async def send(
    client: TestClient[Any, Any], route: Route, probe: Probe, make_token: TokenFactory
) -> int:
    headers = dict(probe.headers)
    if probe.token is not None:
        scopes = SCOPES if probe.token == "all" else "nothing"
        headers["Authorization"] = f"Bearer {make_token(scopes=scopes)}"
    resp = await client.request(
        route.method,
        probe.path or concrete(route.path),
        params=probe.params,
        headers=headers,
        data=probe.body,
    )
    await resp.read()
    return resp.status


def unknown(route: Route, status: int) -> bool:
    """A route under a random id may answer 404 before it looks at anything else."""
    return status == 404 and "{" in route.path


def documented(doc: dict[str, Any], route: Route) -> set[int]:
    return {int(s) for s in doc["paths"][route.path][route.method.lower()]["responses"]}


async def run(
    client: TestClient[Any, Any],
    make_token: TokenFactory,
    pick: Callable[[Route], list[Probe]],
) -> list[str]:
    doc = await (await client.get("/openapi.json")).json()
    wrong: list[str] = []
    for route in ROUTES:
        listed = documented(doc, route)
        for probe in pick(route):
            status = await send(client, route, probe, make_token)
            where = f"{route.method} {route.path} [{probe.what}]"
            if status == 500:
                wrong.append(f"{where}: 500")
            elif status not in listed:
                wrong.append(f"{where}: {status} is not in the document ({sorted(listed)})")
            elif probe.expect is not None and status != probe.expect and not unknown(route, status):
                wrong.append(f"{where}: {status}, meant to be {probe.expect}")
    return wrong


async def test_every_status_each_route_answers_to_its_error_classes_is_in_the_document(
    client: TestClient[Any, Any], make_token: TokenFactory
) -> None:
    wrong = await run(client, make_token, probes)
    assert not wrong, "\n".join(wrong)


async def test_the_rate_limit_answers_of_every_command_route_are_in_the_document(
    client_factory: Factory, make_token: TokenFactory
) -> None:
    # One token a minute: the second command of a route is over the limit.
    client = await client_factory(rate_limit_per_second=1 / 60, rate_limit_burst=1)

    def twice(route: Route) -> list[Probe]:
        if not is_command(route):
            return []
        first = probes(route)[0]
        return [first, Probe("over the limit", headers=first.headers, body=first.body, expect=429)]

    wrong = await run(client, make_token, twice)
    assert not wrong, "\n".join(wrong)


async def test_with_postgresql_and_kafka_down_every_answer_is_in_the_document(
    client_factory: Factory, make_token: TokenFactory
) -> None:
    client = await client_factory(
        database_url=f"postgresql://nobody@127.0.0.1:{free_port()}/none",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
    )
    seen: set[int] = set()

    def plain(route: Route) -> list[Probe]:
        return probes(route)[:1]

    wrong = await run(client, make_token, plain)
    assert not wrong, "\n".join(wrong)
    for route in ROUTES:
        if route.scope is not None and route.method == "GET" and route.path != "/v1/usage":
            seen.add(await send(client, route, probes(route)[0], make_token))
    assert seen <= {503, 404}  # reads need PostgreSQL (404: nothing to look up by a bad id)
    assert 503 in seen


async def test_a_list_route_does_not_claim_a_404_it_cannot_answer(
    client: TestClient[Any, Any],
) -> None:
    doc = await (await client.get("/openapi.json")).json()
    lists = [r for r in ROUTES if r.method == "GET" and r.query is not None and "{" not in r.path]
    assert len(lists) >= 8
    for route in lists:
        assert 404 not in documented(doc, route), route.path
        assert {401, 403, 422, 503} <= documented(doc, route), route.path
