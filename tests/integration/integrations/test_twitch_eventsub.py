"""POST /integrations/twitch/{id}/eventsub against a fake that signs as Twitch does."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from schemas.envelope import Envelope
from tests.fakes.twitch import STALE, FakeTwitch
from tests.integration.integrations.conftest import AddIntegration

ReadCommands = Callable[[], Awaitable[list[Envelope]]]
AddAsset = Callable[..., Awaitable[uuid.UUID]]


async def _bound(add: AddIntegration, add_asset: AddAsset, **kw: Any) -> tuple[str, uuid.UUID]:
    asset_id = kw.pop("asset_id", None) or await add_asset(duration_s=60.0)
    integration_id = await add(
        "twitch", broadcaster_user_id="1337", recording_asset_id=asset_id, **kw
    )
    return f"/integrations/twitch/{integration_id}/eventsub", integration_id


async def _send(
    api: TestClient[Any, Any],
    url: str,
    twitch: FakeTwitch,
    kind: str,
    payload: dict[str, Any],
    **kw: Any,
) -> Any:
    body = twitch.body(payload)
    return await api.post(url, data=body, headers=twitch.headers(kind, body, **kw))


async def test_the_verification_challenge_is_answered_as_plain_text(
    api: TestClient[Any, Any],
    add_integration: AddIntegration,
    add_asset: AddAsset,
    twitch: FakeTwitch,
) -> None:
    url, _ = await _bound(add_integration, add_asset)
    resp = await _send(
        api, url, twitch, "webhook_callback_verification", twitch.verification("pogchamp-123")
    )
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    assert await resp.text() == "pogchamp-123"


async def test_bad_signatures_and_stale_messages_are_refused_and_make_nothing(
    api: TestClient[Any, Any],
    add_integration: AddIntegration,
    add_asset: AddAsset,
    twitch: FakeTwitch,
    read_commands: ReadCommands,
) -> None:
    url, _ = await _bound(add_integration, add_asset)
    payload = twitch.chat("!clip 30", badges=("moderator",))
    body = twitch.body(payload)
    wrong = FakeTwitch("another-secret-entirely")
    for headers in [
        wrong.headers("notification", body),
        twitch.headers("notification", body, signature="sha256=" + "0" * 64),
        twitch.headers("notification", body, signature="md5=abc"),
        twitch.headers("notification", body, at=datetime.now(UTC) - STALE),
        twitch.headers("notification", body, at=datetime.now(UTC) + STALE),
        {k: v for k, v in twitch.headers("notification", body).items() if "Signature" not in k},
    ]:
        resp = await api.post(url, data=body, headers=headers)
        assert resp.status == 403, await resp.text()
    assert await read_commands() == []


async def test_a_moderators_clip_requests_the_recordings_last_seconds_once_per_message_id(
    api: TestClient[Any, Any],
    add_integration: AddIntegration,
    add_asset: AddAsset,
    twitch: FakeTwitch,
    read_commands: ReadCommands,
) -> None:
    url, integration_id = await _bound(add_integration, add_asset)
    payload = twitch.chat("!clip 20", badges=("moderator", "subscriber"))
    for _ in range(3):  # Twitch redelivers with the same message id
        resp = await _send(api, url, twitch, "notification", payload, message_id="msg-1")
        assert resp.status == 204, await resp.text()
    default = await _send(
        api, url, twitch, "notification", twitch.chat("!clip", chatter_user_id="1337")
    )
    assert default.status == 204
    clips = await read_commands()
    assert [c.type for c in clips] == ["clip.RequestClip", "clip.RequestClip"]
    # Two aggregates, two partitions: the topic does not order them.
    ranges = sorted((c.data["start"], c.data["duration"]) for c in clips)
    assert ranges == [(30.0, 30.0), (40.0, 20.0)]
    assert {c.actor.sub for c in clips} == {f"integration:{integration_id}"}
    assert {c.org_id for c in clips} == {"org-a"}


async def test_other_chatters_and_other_messages_are_ignored(
    api: TestClient[Any, Any],
    add_integration: AddIntegration,
    add_asset: AddAsset,
    twitch: FakeTwitch,
    read_commands: ReadCommands,
) -> None:
    url, _ = await _bound(add_integration, add_asset)
    for payload in [
        twitch.chat("!clip 30", badges=("subscriber", "vip")),
        twitch.chat("!clip 30"),
        twitch.chat("hello chat", badges=("moderator",)),
        twitch.chat("!clip 121", badges=("moderator",)),
        twitch.chat("!clip 0", badges=("moderator",)),
        FakeTwitch("x" * 20, broadcaster_user_id="999").chat("!clip", badges=("broadcaster",)),
    ]:
        resp = await _send(api, url, twitch, "notification", payload)
        assert resp.status == 204
    assert await read_commands() == []


async def test_revocation_revokes_and_later_messages_are_refused(
    api: TestClient[Any, Any],
    add_integration: AddIntegration,
    add_asset: AddAsset,
    twitch: FakeTwitch,
    read_commands: ReadCommands,
    db: asyncpg.Connection,
) -> None:
    url, integration_id = await _bound(add_integration, add_asset)
    resp = await _send(api, url, twitch, "revocation", twitch.revocation("moderator_removed"))
    assert resp.status == 204
    (revoke,) = await read_commands()
    assert revoke.type == "integration.RevokeIntegration"
    assert revoke.aggregate_id == integration_id
    assert revoke.data == {"reason": "moderator_removed"}
    # The projector's fold of IntegrationRevoked (tested with the decider in the flow test).
    await db.execute("UPDATE integrations SET status = 'revoked' WHERE id = $1", integration_id)
    later = await _send(
        api, url, twitch, "notification", twitch.chat("!clip", badges=("moderator",))
    )
    assert later.status == 410
    assert len(await read_commands()) == 1


async def test_an_integration_never_clips_another_organizations_asset(
    api: TestClient[Any, Any],
    add_integration: AddIntegration,
    add_asset: AddAsset,
    twitch: FakeTwitch,
    read_commands: ReadCommands,
) -> None:
    foreign = await add_asset(org="org-b", duration_s=60.0)
    url, _ = await _bound(add_integration, add_asset, asset_id=foreign)
    resp = await _send(
        api, url, twitch, "notification", twitch.chat("!clip", badges=("moderator",))
    )
    assert resp.status == 204
    assert await read_commands() == []


async def test_garbage_never_gets_a_500(
    api: TestClient[Any, Any],
    add_integration: AddIntegration,
    add_asset: AddAsset,
    twitch: FakeTwitch,
    read_commands: ReadCommands,
) -> None:
    url, _ = await _bound(add_integration, add_asset)
    bodies = [
        b"", b"\xff", b"[]", b"null", b"{}", b'{"event": []}', b'{"event": {"message": 5}}',
        b'{"event": {"broadcaster_user_id": "1337", "message": {"text": "!clip"}, "badges": "x"}}',
        b'{"event": {"broadcaster_user_id": "1337", "message": {"text": "!clip 99999999"},'
        b' "badges": [{"set_id": "moderator"}], "chatter_user_login": ["x"]}}',
        b'{"challenge": 5}', b'{"subscription": []}', b"{" * 3000,
    ]  # fmt: skip
    for kind in ("notification", "webhook_callback_verification", "revocation", "other"):
        for body in bodies:
            resp = await api.post(url, data=body, headers=twitch.headers(kind, body))
            assert resp.status < 500, (kind, body[:60], resp.status, await resp.text())
    bad_headers = {
        "Twitch-Eventsub-Message-Id": "\u00e9" * 3,
        "Twitch-Eventsub-Message-Timestamp": "x",
        "Twitch-Eventsub-Message-Signature": "\u2603",
        "Twitch-Eventsub-Message-Type": "n",
    }
    resp = await api.post(url, data=b"{}", headers=bad_headers)
    assert resp.status == 403
    # Revocation bodies that parse as JSON revoke: nothing but RevokeIntegration came out.
    assert {c.type for c in await read_commands()} <= {"integration.RevokeIntegration"}
