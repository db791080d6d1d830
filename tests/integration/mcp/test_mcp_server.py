"""The MCP server at /mcp, driven by the MCP SDK's own client against the real stack."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import aiohttp
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from tests.integration.client.stack import SECRET, SdkStack, eventually
from tests.media import make_video


@asynccontextmanager
async def mcp_session(stack: SdkStack, token: str) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{stack.base_url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def payload(result: CallToolResult) -> dict[str, Any]:
    assert result.content, result
    doc = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert isinstance(doc, dict)
    return doc


async def test_without_a_token_mcp_answers_401(sdk_stack: SdkStack) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sdk_stack.base_url}/mcp", json=body) as resp,
    ):
        assert resp.status == 401
        assert resp.content_type == "application/problem+json"
        assert "Bearer" in resp.headers["WWW-Authenticate"]


async def test_tools_are_listed_by_scope(sdk_stack: SdkStack) -> None:
    async with mcp_session(sdk_stack, sdk_stack.token()) as session:
        names = {t.name for t in (await session.list_tools()).tools}
    assert names == {
        "queue_post",
        "request_clip",
        "get_item_status",
        "get_clip_status",
        "list_recent_posts",
    }
    async with mcp_session(sdk_stack, sdk_stack.token(scope="read")) as session:
        names = {t.name for t in (await session.list_tools()).tools}
    assert names == {"get_item_status", "get_clip_status", "list_recent_posts"}


async def test_queue_post_is_an_idempotent_command_visible_through_get_item_status(
    sdk_stack: SdkStack,
) -> None:
    when = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    args = {"platform": "youtube", "title": f"mcp {uuid.uuid4().hex[:6]}", "schedule_at": when}
    async with mcp_session(sdk_stack, sdk_stack.token()) as session:
        first = payload(await session.call_tool("queue_post", args))
        again = payload(await session.call_tool("queue_post", args))
        # A retried call is the same command: same ids, one item.
        assert first["status"] == "accepted", first
        assert (again["id"], again["command_id"]) == (first["id"], first["command_id"])
        item = await eventually(
            lambda: session.call_tool("get_item_status", {"item_id": first["id"]}),
            lambda r: payload(r).get("status") == "scheduled",
        )
        assert payload(item)["title"] == args["title"]
        # With a key of its own, the same arguments make a second item.
        other = payload(await session.call_tool("queue_post", {**args, "idempotency_key": "k2"}))
        assert other["id"] != first["id"]


async def test_a_read_only_token_cannot_queue_and_nothing_is_produced(sdk_stack: SdkStack) -> None:
    args = {"platform": "x", "title": "not allowed", "idempotency_key": "ro-1"}
    async with mcp_session(sdk_stack, sdk_stack.token(scope="read")) as session:
        result = await session.call_tool("queue_post", args)
    assert result.is_error
    assert "queue:write" in payload(result)["detail"]
    # The key was never used: the same key from a writer makes the item now.
    async with sdk_stack.client() as ws:
        accepted = await ws.enqueue("x", "allowed", idempotency_key="ro-1")
        outcome = await ws.wait_for_outcome(accepted, timeout=30)
    assert outcome.outcome == "applied"


async def test_a_second_organization_cannot_see_the_first_ones_items_or_clips(
    sdk_stack: SdkStack,
) -> None:
    async with mcp_session(sdk_stack, sdk_stack.token(org="org-a")) as session:
        mine = payload(await session.call_tool("queue_post", {"platform": "x", "title": "a's"}))
        await eventually(
            lambda: session.call_tool("get_item_status", {"item_id": mine["id"]}),
            lambda r: payload(r).get("status") == "scheduled",
        )
    async with mcp_session(sdk_stack, sdk_stack.token(org="org-b")) as session:
        seen = await session.call_tool("get_item_status", {"item_id": mine["id"]})
        clip = await session.call_tool("get_clip_status", {"clip_id": mine["id"]})
        posts = payload(await session.call_tool("list_recent_posts", {}))
    assert seen.is_error and payload(seen)["status"] == 404
    assert clip.is_error and payload(clip)["status"] == 404
    assert posts == {"posts": []}


async def test_invalid_arguments_and_api_refusals_are_tool_errors(sdk_stack: SdkStack) -> None:
    async with mcp_session(sdk_stack, sdk_stack.token()) as session:
        bad = await session.call_tool("queue_post", {"platform": "myspace", "title": "t"})
        assert bad.is_error and payload(bad)["errors"][0]["loc"] == ["arguments", "platform"]
        # Refused by the API's own validation (the clipper's path rules), relayed as is.
        refused = await session.call_tool(
            "request_clip", {"path": "../etc/passwd", "start": 0, "duration": 1}
        )
        assert refused.is_error and payload(refused)["status"] == 422
        unknown = await session.call_tool("drop_tables", {})
        assert unknown.is_error


async def test_request_clip_and_get_clip_status_follow_the_clip(sdk_stack: SdkStack) -> None:
    make_video(sdk_stack.media("org-a") / "mcp-source.mp4", seconds=3.0)
    async with sdk_stack.client() as ws:
        registered = await ws.register_asset("mcp-source.mp4")
        await ws.wait_for_outcome(registered, timeout=30, check=True)
        await eventually(lambda: ws.asset(registered.id), lambda a: a.status == "registered")
    async with mcp_session(sdk_stack, sdk_stack.token()) as session:
        args = {"asset_id": str(registered.id), "start": 0.5, "duration": 1.0}
        clip = payload(await session.call_tool("request_clip", args))
        assert clip["status"] == "accepted", clip
        done = await eventually(
            lambda: session.call_tool("get_clip_status", {"clip_id": clip["id"]}),
            lambda r: payload(r).get("status") in ("succeeded", "failed"),
            timeout=120,
        )
    assert payload(done)["status"] == "succeeded", payload(done)
    assert payload(done)["output_asset_id"] is not None


@pytest.mark.slow
async def test_list_recent_posts_shows_a_published_post_newest_first(sdk_stack: SdkStack) -> None:
    async with sdk_stack.client() as ws:
        conn = await ws.create_connection(
            "webhook", "mcp hook", {"url": sdk_stack.receiver.url("mcp"), "secret": SECRET}
        )
        await ws.wait_for_outcome(conn, timeout=30, check=True)
    async with mcp_session(sdk_stack, sdk_stack.token()) as session:
        queued = []
        for n in range(2):
            args = {"platform": "webhook", "title": f"recent {n}", "connection_id": str(conn.id)}
            item_id = payload(await session.call_tool("queue_post", args))["id"]
            status = {"item_id": item_id}
            final = await eventually(
                partial(session.call_tool, "get_item_status", status),
                lambda r: payload(r).get("status") in ("published", "failed", "unconfirmed"),
                timeout=120,
            )
            assert payload(final)["status"] == "published", payload(final)
            queued.append(item_id)
        posts = payload(await session.call_tool("list_recent_posts", {"limit": 2}))["posts"]
    assert [p["queue_item_id"] for p in posts] == queued[::-1]


async def test_whatever_a_client_sends_to_mcp_is_never_a_500(sdk_stack: SdkStack) -> None:
    auth = {"Authorization": f"Bearer {sdk_stack.token()}"}
    json_headers = {**auth, "Content-Type": "application/json", "Accept": "application/json"}
    attempts: list[tuple[str, dict[str, str], bytes]] = [
        ("GET", {**auth, "Accept": "text/event-stream"}, b""),
        ("DELETE", auth, b""),
        ("POST", json_headers, b"{not json"),
        ("POST", json_headers, b"[]"),
        ("POST", json_headers, b'{"jsonrpc": "2.0", "id": 1, "method": "no/such"}'),
        ("POST", {**auth, "Content-Type": "text/plain"}, b"hello"),
        ("PUT", auth, b""),
    ]
    async with aiohttp.ClientSession() as http:
        for method, headers, body in attempts:
            async with http.request(
                method, f"{sdk_stack.base_url}/mcp", headers=headers, data=body
            ) as resp:
                assert 200 <= resp.status < 500, (method, body, resp.status, await resp.text())
        for method in ("GET", "DELETE"):
            async with http.request(method, f"{sdk_stack.base_url}/mcp", headers=auth) as resp:
                assert resp.status == 405
