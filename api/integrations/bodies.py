"""The body of POST /v1/integrations, one shape per platform (DESIGN §13).

The Twitch ``secret`` is write-only: it is checked by hand with fixed messages (like
connection credentials), so no validation error can echo it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from schemas.integrations import MAX_NAME_CHARS, IntegrationScope

# Twitch takes 10-100 characters (PLATFORMS.md: unconfirmed; enforced by twurple).
SECRET_MIN, SECRET_MAX = 10, 100
SNOWFLAKE = r"^\d{1,25}$"


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    scopes: list[IntegrationScope] = Field(
        min_length=1,
        max_length=3,
        description="What the integration's bot may do: queue:write (/queue), "
        "clips:write (/clip, !clip), read (/status). At most the creating token's scopes.",
    )


class DiscordBody(_Body):
    platform: Literal["discord"]
    application_id: str = Field(pattern=SNOWFLAKE)
    public_key: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$", description="The application's Ed25519 public key (hex)"
    )


class Recording(BaseModel):
    """What `!clip` cuts from: an asset, or the latest registered video of a project."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Recording:
        if (self.project_id is None) == (self.asset_id is None):
            raise ValueError("give exactly one of project_id or asset_id")
        return self


class TwitchBody(_Body):
    platform: Literal["twitch"]
    broadcaster_user_id: str = Field(pattern=SNOWFLAKE)
    recording: Recording
    secret: Any = Field(
        description=f"The EventSub subscription's secret ({SECRET_MIN}-{SECRET_MAX} ASCII "
        "characters). Write-only: never echoed, logged or put on the log."
    )


IntegrationBody = Annotated[DiscordBody | TwitchBody, Field(discriminator="platform")]


class IntegrationBodyModel(RootModel[IntegrationBody]):
    """The body: one of the two shapes, told apart by ``platform``."""


def secret_problem(secret: Any) -> str | None:
    """Why the secret is unusable (a fixed phrase), or None."""
    if not isinstance(secret, str):
        return "must be a string"
    if not SECRET_MIN <= len(secret) <= SECRET_MAX or not all(
        0x21 <= ord(c) <= 0x7E for c in secret
    ):
        return f"must be {SECRET_MIN}-{SECRET_MAX} visible ASCII characters"
    return None
