"""Bad requests are answered with the right 4xx problem and never reach the log."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from schemas.envelope import Envelope

Headers = Callable[..., dict[str, str]]
Reader = Callable[[], Awaitable[list[Envelope]]]
ITEM = {"platform": "youtube", "title": "Hello"}


@pytest.fixture
def headers(bearer: Headers) -> dict[str, str]:
    return bearer() | {"Idempotency-Key": "bad-input"}


async def problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body: dict[str, Any] = await resp.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


async def test_malformed_json_is_a_400(
    client: TestClient[Any, Any], headers: dict[str, str], read_commands: Reader
) -> None:
    for raw in (b'{"platform": "youtube",', b"", b"\xff\xfe", b"{'single': 1}"):
        resp = await client.post(
            "/v1/queue", data=raw, headers=headers | {"Content-Type": "application/json"}
        )
        await problem(resp, 400)
    assert await read_commands() == []


async def test_a_body_that_is_not_json_is_a_415(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        resp = await client.post(
            "/v1/queue", data=json.dumps(ITEM), headers=headers | {"Content-Type": content_type}
        )
        await problem(resp, 415)
    latin1 = await client.post(
        "/v1/queue",
        data=json.dumps(ITEM),
        headers=headers | {"Content-Type": "application/json; charset=latin-1"},
    )
    await problem(latin1, 415)
    utf8 = await client.post(
        "/v1/queue",
        data=json.dumps(ITEM),
        headers=headers | {"Content-Type": "application/json; charset=utf-8"},
    )
    assert utf8.status == 202


async def test_a_body_over_one_mebibyte_is_a_413(
    client: TestClient[Any, Any], headers: dict[str, str], read_commands: Reader
) -> None:
    big = {**ITEM, "target": {"blob": "x" * (1024 * 1024 + 1)}}
    resp = await client.post("/v1/queue", json=big, headers=headers)
    await problem(resp, 413)
    assert await read_commands() == []


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"title": ""}, ["body", "title"]),
        ({"title": "   "}, ["body", "title"]),
        ({"title": "x" * 101}, ["body", "title"]),
        ({"platform": "myspace"}, ["body", "platform"]),
        ({"schedule_at": "2030-01-01T10:00:00"}, ["body", "schedule_at"]),
        ({"schedule_at": "tomorrow"}, ["body", "schedule_at"]),
        ({"timezone": "Mars/Olympus"}, ["body", "timezone"]),
        ({"project_id": "not-a-uuid"}, ["body", "project_id"]),
        ({"unknown": 1}, ["body", "unknown"]),
    ],
    ids=lambda v: json.dumps(v)[:40],
)
async def test_invalid_fields_are_a_422_naming_the_field(
    client: TestClient[Any, Any],
    headers: dict[str, str],
    change: dict[str, Any],
    loc: list[str],
) -> None:
    resp = await client.post("/v1/queue", json={**ITEM, **change}, headers=headers)
    body = await problem(resp, 422)
    assert loc in [e["loc"] for e in body["errors"]]
    assert all(e["msg"] for e in body["errors"])


async def test_a_missing_required_field_and_a_non_object_body_are_422(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    missing = await problem(
        await client.post("/v1/queue", json={"title": "x"}, headers=headers), 422
    )
    assert ["body", "platform"] in [e["loc"] for e in missing["errors"]]
    json_headers = headers | {"Content-Type": "application/json"}
    for raw in (json.dumps([ITEM]), '"text"', "5", "null"):
        await problem(await client.post("/v1/queue", data=raw, headers=json_headers), 422)


async def test_an_exactly_100_char_title_with_an_offset_schedule_is_accepted(
    client: TestClient[Any, Any], headers: dict[str, str], read_commands: Reader
) -> None:
    item = {**ITEM, "title": "x" * 100, "schedule_at": "2030-01-01T10:00:00+02:00"}
    resp = await client.post("/v1/queue", json=item, headers=headers)
    assert resp.status == 202
    [envelope] = await read_commands()
    assert envelope.data["schedule_at"] == "2030-01-01T10:00:00+02:00"


async def test_unknown_routes_and_methods_are_problems_too(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    await problem(await client.get("/v1/nothing-here", headers=bearer()), 404)
    not_allowed = await problem(await client.delete("/v1/queue", headers=bearer()), 405)
    assert not_allowed["title"] == "Method Not Allowed"


async def test_a_malformed_id_in_the_path_is_a_404(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    await problem(await client.get("/v1/queue/not-a-uuid", headers=bearer()), 404)
    await problem(await client.get("/v1/commands/123", headers=bearer()), 404)


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "limit=ten", "status=lost", "platform=myspace", "cursor=%%%"],
)
async def test_bad_query_parameters_are_a_422(
    client: TestClient[Any, Any], bearer: Headers, query: str
) -> None:
    body = await problem(await client.get(f"/v1/queue?{query}", headers=bearer()), 422)
    assert body["errors"][0]["loc"][0] == "query"


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (
            '{"platform": "x", "title": "t", "target": {"volume": NaN}}',
            ["body", "target", "volume"],
        ),
        (
            '{"platform": "x", "title": "t", "target": {"n": [1, Infinity]}}',
            ["body", "target", "n", 1],
        ),
        ('{"platform": "x", "title": "t", "target": {"big": 1e400}}', ["body", "target", "big"]),
    ],
)
async def test_non_finite_numbers_are_a_422_not_a_poisoned_command(
    client: TestClient[Any, Any],
    headers: dict[str, str],
    read_commands: Reader,
    raw: str,
    loc: list[str | int],
) -> None:
    resp = await client.post(
        "/v1/queue", data=raw, headers=headers | {"Content-Type": "application/json"}
    )
    body = await problem(resp, 422)
    assert [e["loc"] for e in body["errors"]] == [loc]
    assert await read_commands() == []


async def test_nul_characters_in_the_body_or_query_are_a_422_not_a_500(
    client: TestClient[Any, Any], bearer: Headers, headers: dict[str, str], read_commands: Reader
) -> None:
    raw = '{"platform": "x", "title": "a\\u0000b", "target": {"k\\u0000": 1}}'
    resp = await client.post(
        "/v1/queue", data=raw, headers=headers | {"Content-Type": "application/json"}
    )
    body = await problem(resp, 422)
    assert [e["loc"] for e in body["errors"]] == [["body", "title"], ["body", "target", "k\x00"]]
    assert await read_commands() == []
    for url in ("/v1/audit?type=%00", "/v1/assets?status=a%00b", "/v1/queue?cursor=%00"):
        got = await client.get(url, headers=bearer())
        assert got.status == 422, url


async def test_a_date_that_overflows_in_utc_is_a_422_not_a_500(
    client: TestClient[Any, Any], bearer: Headers, headers: dict[str, str]
) -> None:
    item = {"platform": "x", "title": "t", "schedule_at": "0001-01-01T00:00:00+14:00"}
    body = await problem(await client.post("/v1/queue", json=item, headers=headers), 422)
    assert body["errors"][0]["loc"] == ["body", "schedule_at"]
    audit = await client.get(
        "/v1/audit",
        params={"since": "9999-12-31T23:59:59-14:00"},
        headers=bearer(scopes="audit:read"),
    )
    assert audit.status == 422


async def test_a_clip_starting_at_infinity_is_a_422(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    raw = '{"source": {"path": "a.mp4"}, "start": 1e400, "duration": 5}'
    resp = await client.post(
        "/v1/clips", data=raw, headers=headers | {"Content-Type": "application/json"}
    )
    assert resp.status == 422


async def test_a_lone_surrogate_in_a_string_is_a_400_not_a_500(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    raw = '{"platform": "x", "title": "\\ud800"}'
    resp = await client.post(
        "/v1/queue", data=raw, headers=headers | {"Content-Type": "application/json"}
    )
    assert resp.status == 400  # jiter refuses unpaired surrogates as invalid JSON
