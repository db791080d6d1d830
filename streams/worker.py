"""Runs one streams process (decider, media, publisher, ...) until SIGTERM or SIGINT."""

from __future__ import annotations

from typing import Any, Literal

from streams.decider import app as decider_app
from streams.media import app as media_app
from streams.media.app import MediaSettings
from streams.publishing import app as publisher_app

Role = Literal["decider", "media", "publisher", "integrations", "webhooks"]
ROLES: tuple[Role, ...] = ("decider", "media", "publisher", "integrations", "webhooks")
# Every role is a plain aiokafka process now (streams/runtime/process.py); the
# publisher was the last Faust app (docs/decisions.md).
READY_MESSAGE = "Worker ready"


def main(settings: MediaSettings, role: Role) -> None:
    """Blocks until the process stops; logging is the caller's (wavestack.logging)."""
    if role == "decider":
        decider_app.main(settings)
        return
    if role == "integrations":
        # A plain aiokafka process like the decider (streams/integrations/app.py).
        from streams.integrations import app as integrations_app

        run_integrations: Any = integrations_app.main  # it reads settings MediaSettings lacks
        run_integrations(settings)
        return
    if role == "webhooks":
        # A plain aiokafka process like the decider (streams/webhooks/app.py).
        from streams.webhooks import app as webhooks_app

        run_webhooks: Any = webhooks_app.main  # it reads more settings than MediaSettings names
        run_webhooks(settings)
        return
    if role == "media":
        media_app.main(settings)
        return
    run_publisher: Any = publisher_app.main  # it reads more settings than MediaSettings names
    run_publisher(settings)
