"""The explicit registry: platform name → adapter, built once per publisher process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from streams.publishing.adapters import discord, x, youtube
from streams.publishing.adapters.base import Adapter
from streams.publishing.adapters.discord import DiscordAdapter
from streams.publishing.adapters.webhook import WebhookAdapter
from streams.publishing.adapters.x import XAdapter
from streams.publishing.adapters.youtube import YouTubeAdapter


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BaseUrls:
    """API bases per platform (settings `WAVESTACK_PLATFORM_<NAME>_BASE_URL`; tests: fakes)."""

    discord: str = discord.DEFAULT_BASE_URL
    youtube: str = youtube.DEFAULT_BASE_URL
    x: str = x.DEFAULT_BASE_URL


def create_adapters(
    session: aiohttp.ClientSession,
    urls: BaseUrls | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, Adapter]:
    urls = urls or BaseUrls()
    return {
        "webhook": WebhookAdapter(session, clock),
        "discord": DiscordAdapter(session, clock, urls.discord),
        "youtube": YouTubeAdapter(session, clock, urls.youtube),
        "x": XAdapter(session, clock, urls.x),
    }
