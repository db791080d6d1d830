"""Integrations: a Discord application or a Twitch EventSub subscription bound to an
organization, acting as a token-less bot with the scopes it was given (DESIGN §13).

The Twitch secret never travels on the log, not even sealed: it lives sealed in the
vault's integration table (vault/inbound.py), which the DELETE shreds. The events
carry only which ring key sealed it, for the audit trail.
"""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import Field

from schemas.base import Command, Event

IntegrationPlatform = Literal["discord", "twitch"]
# What an integration may be allowed to do: the inbound routes need no more.
IntegrationScope = Literal["queue:write", "clips:write", "read"]

MAX_NAME_CHARS = 200


class CreateIntegration(Command):
    TYPE: ClassVar[str] = "integration.CreateIntegration"
    AGGREGATE_TYPE: ClassVar[str] = "integration"

    platform: IntegrationPlatform
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    scopes: list[IntegrationScope] = Field(max_length=3)
    # Discord: the application and its Ed25519 public key (hex, 32 bytes).
    application_id: str | None = Field(default=None, pattern=r"^\d{1,25}$")
    public_key: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    # Twitch: the channel, what `!clip` cuts from, and the ring key that sealed the secret.
    broadcaster_user_id: str | None = Field(default=None, pattern=r"^\d{1,25}$")
    recording_project_id: uuid.UUID | None = None
    recording_asset_id: uuid.UUID | None = None
    key_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")


class DeleteIntegration(Command):
    TYPE: ClassVar[str] = "integration.DeleteIntegration"
    AGGREGATE_TYPE: ClassVar[str] = "integration"


class RevokeIntegration(Command):
    """The platform revoked the subscription (Twitch ``revocation``): refuse what follows."""

    TYPE: ClassVar[str] = "integration.RevokeIntegration"
    AGGREGATE_TYPE: ClassVar[str] = "integration"

    reason: str = Field(min_length=1, max_length=100)


class IntegrationCreated(Event):
    TYPE: ClassVar[str] = "integration.IntegrationCreated"
    AGGREGATE_TYPE: ClassVar[str] = "integration"

    platform: IntegrationPlatform
    name: str
    scopes: list[IntegrationScope]
    application_id: str | None = None
    public_key: str | None = None
    broadcaster_user_id: str | None = None
    recording_project_id: uuid.UUID | None = None
    recording_asset_id: uuid.UUID | None = None
    key_id: str | None = None


class IntegrationRevoked(Event):
    TYPE: ClassVar[str] = "integration.IntegrationRevoked"
    AGGREGATE_TYPE: ClassVar[str] = "integration"

    reason: str


class IntegrationDeleted(Event):
    """The integration is gone; a Twitch secret is destroyed with it."""

    TYPE: ClassVar[str] = "integration.IntegrationDeleted"
    AGGREGATE_TYPE: ClassVar[str] = "integration"
