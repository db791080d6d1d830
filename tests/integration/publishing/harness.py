"""One harness per platform: its fake, its adapter, and how to make each bad day happen.

The contract suite talks to these only, so every adapter meets the same scenarios.
"""

from __future__ import annotations

import abc
import base64
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from streams.publishing.adapters.base import Adapter, MediaFile, PublishRequest
from streams.publishing.adapters.discord import DiscordAdapter
from streams.publishing.adapters.webhook import WebhookAdapter
from streams.publishing.adapters.x import XAdapter
from streams.publishing.adapters.youtube import QUANTUM, YouTubeAdapter
from tests.fakes.base import FakeServer, Scripted, normal, stall
from tests.fakes.discord import FakeDiscord
from tests.fakes.webhook import FakeWebhookReceiver
from tests.fakes.x import FakeX
from tests.fakes.youtube import FakeYouTube

# The read timeout is well under the stall (and well over a loaded machine's answer
# time), so "accepted, then no answer in time" is what the client sees.
READ_TIMEOUT = 1.0
STALL = 5.0
TEST_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=2, sock_read=READ_TIMEOUT)


def utc_now() -> datetime:
    return datetime.now(UTC)


def whsec() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


class Harness(abc.ABC):
    platform: str
    fake: FakeServer
    adapter: Adapter
    credentials: dict[str, str]
    # What `reconcile` gives after an accepted-then-stalled publish.
    after_stall: str  # "found" | "resend" | "cannot-know"
    # A word the 401 summary must contain: what the user should do.
    revoked_hint: str
    media: MediaFile | None = None

    def request(self, session: Mapping[str, Any] | None = None, **overrides: Any) -> PublishRequest:
        values: dict[str, Any] = {
            "item_id": str(uuid.uuid4()),
            "attempt_id": "att_" + uuid.uuid4().hex,
            "title": f"Launch day {uuid.uuid4().hex[:6]}",
            "description": "We are live.",
            "target": {},
            "credentials": self.credentials,
            "media": self.media,
            "session": session,
        }
        values.update(overrides)
        return PublishRequest(**values)

    def secrets(self) -> list[str]:
        """Every credential value and its meaningful parts: none may leak."""
        found = [v for v in self.credentials.values() if v]
        for value in list(found):
            if value.startswith("whsec_"):
                found.append(value.removeprefix("whsec_"))
            if "/webhooks/" in value:
                found.append(value.rsplit("/", 1)[1])
        return found

    @abc.abstractmethod
    async def start(self) -> None:
        """Start the fake; credentials and adapter may depend on its address."""

    @abc.abstractmethod
    def posts(self) -> list[str]:
        """Ids of what the platform holds as published."""

    @abc.abstractmethod
    def fail(self, answer: Scripted) -> None:
        """Queue `answer` for the request that publishes."""

    def server_error(self) -> None:
        self.fail(Scripted(503, {"error": "unavailable"}))

    @abc.abstractmethod
    def rate_limit(self) -> float:
        """Queue a 429; returns the wait in seconds the platform asks for."""

    @abc.abstractmethod
    def revoke(self) -> None: ...

    @abc.abstractmethod
    def delete_target(self) -> None: ...

    def accept_then_stall(self) -> None:
        self.fail(stall(STALL))


class WebhookHarness(Harness):
    platform, after_stall, revoked_hint = "webhook", "resend", "secret"

    def __init__(self, session: aiohttp.ClientSession, tmp: Path) -> None:
        secret = whsec()
        self.fake = self.receiver = FakeWebhookReceiver(secret)
        self.adapter = WebhookAdapter(session, utc_now)
        self._secret = secret

    async def start(self) -> None:
        await self.fake.start()
        self.credentials = {"url": self.receiver.url(), "secret": self._secret}

    def posts(self) -> list[str]:
        return [d.webhook_id for d in self.receiver.deliveries]

    def fail(self, answer: Scripted) -> None:
        self.fake.queue("deliver", answer)

    def rate_limit(self) -> float:
        self.fail(FakeWebhookReceiver.throttled(30))
        return 30

    def revoke(self) -> None:
        self.receiver.secret = whsec()  # the receiver moved on to another secret

    def delete_target(self) -> None:
        self.fail(FakeWebhookReceiver.gone())


class DiscordHarness(Harness):
    platform, after_stall, revoked_hint = "discord", "cannot-know", "reconnect"

    def __init__(self, session: aiohttp.ClientSession, tmp: Path) -> None:
        self.fake = self.discord = FakeDiscord()
        self._session = session

    async def start(self) -> None:
        await self.fake.start()
        self.adapter = DiscordAdapter(self._session, utc_now, self.discord.api_base)
        self.credentials = {"webhook_url": self.discord.create_webhook()}

    def posts(self) -> list[str]:
        return [m["id"] for m in self.discord.messages]

    def fail(self, answer: Scripted) -> None:
        self.fake.queue("execute", answer)

    def server_error(self) -> None:
        self.fail(FakeDiscord.server_error())

    def rate_limit(self) -> float:
        self.fail(FakeDiscord.rate_limited(1.5))
        return 1.5

    def revoke(self) -> None:
        self.discord.regenerate_token(self.credentials["webhook_url"])

    def delete_target(self) -> None:
        self.discord.delete_webhook(self.credentials["webhook_url"])


def media_file(tmp: Path, size: int, content_type: str) -> MediaFile:
    path = tmp / f"asset-{uuid.uuid4().hex[:6]}.mp4"
    path.write_bytes(os.urandom(size))
    return MediaFile(path, size, content_type)


class YouTubeHarness(Harness):
    platform, after_stall, revoked_hint = "youtube", "found", "reconnect"

    def __init__(self, session: aiohttp.ClientSession, tmp: Path) -> None:
        token = "ya29." + uuid.uuid4().hex
        self.fake = self.youtube = FakeYouTube(token)
        self.credentials = {"access_token": token, "refresh_token": "1//" + uuid.uuid4().hex}
        self.media = media_file(tmp, 2 * QUANTUM + 12_345, "video/mp4")
        self._session = session

    async def start(self) -> None:
        await self.fake.start()
        self.adapter = YouTubeAdapter(self._session, utc_now, self.fake.base_url, QUANTUM)

    def posts(self) -> list[str]:
        return list(self.youtube.videos)

    def fail(self, answer: Scripted) -> None:
        self.fake.queue("start", answer)

    def server_error(self) -> None:
        self.fail(FakeYouTube.server_error())

    def rate_limit(self) -> float:
        self.fail(FakeYouTube.too_many_requests(30))
        return 30

    def revoke(self) -> None:
        self.youtube.tokens.clear()

    def delete_target(self) -> None:
        self.fail(FakeYouTube.no_channel())

    def accept_then_stall(self) -> None:
        # The last chunk completes the video; its answer never arrives in time.
        self.fake.queue("chunk", normal(), normal(), stall(STALL))


class XHarness(Harness):
    platform, after_stall, revoked_hint = "x", "found", "reconnect"

    def __init__(self, session: aiohttp.ClientSession, tmp: Path) -> None:
        token = "xat-" + uuid.uuid4().hex
        self.fake = self.x = FakeX(token)
        self.credentials = {"access_token": token}
        self._session = session

    async def start(self) -> None:
        await self.fake.start()
        self.adapter = XAdapter(self._session, utc_now, self.fake.base_url, QUANTUM)

    def posts(self) -> list[str]:
        return [p["id"] for p in self.x.posts]

    def fail(self, answer: Scripted) -> None:
        self.fake.queue("tweet", answer)

    def server_error(self) -> None:
        self.fail(FakeX.server_error())

    def rate_limit(self) -> float:
        self.fail(FakeX.rate_limited(900))
        return 900

    def revoke(self) -> None:
        self.x.tokens.clear()

    def delete_target(self) -> None:
        self.fail(FakeX.suspended())


HARNESSES: dict[str, type[WebhookHarness | DiscordHarness | YouTubeHarness | XHarness]] = {
    "webhook": WebhookHarness,
    "discord": DiscordHarness,
    "youtube": YouTubeHarness,
    "x": XHarness,
}
