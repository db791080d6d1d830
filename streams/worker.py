"""Runs one streams app (decider, media or publisher) in the foreground until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import faust
import structlog

from streams.decider import app as decider_app
from streams.media import app as media_app
from streams.media.app import MediaSettings
from streams.publishing import app as publisher_app
from streams.runtime.changelog import ensure_compacted

Role = Literal["decider", "media", "publisher", "integrations", "webhooks"]
ROLES: tuple[Role, ...] = ("decider", "media", "publisher", "integrations", "webhooks")
# The Faust apps; the decider and the media process are plain aiokafka processes
# (streams/decider/app.py, streams/media/app.py).
FACTORIES: dict[Role, Callable[..., faust.App]] = {
    "publisher": publisher_app.create_app,
}

# Faust and mode narrate every service start and print recovery tables at INFO; the
# operator needs warnings, plus the one line that says the worker took its partitions.
CHATTY_LOGGERS = ("faust", "mode", "streams.runtime")
RECOVERY_LOGGER = "faust.tables.recovery"
READY_MESSAGE = "Worker ready"


class _OnlyReady(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.getMessage().endswith(READY_MESSAGE)


def quiet_faust_logging() -> None:
    if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
        return
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    recovery = logging.getLogger(RECOVERY_LOGGER)
    recovery.setLevel(logging.INFO)
    recovery.addFilter(_OnlyReady())


def main(settings: MediaSettings, role: Role, *, web: bool = False) -> None:
    """Blocks until the app stops; logging is the caller's (wavestack.logging)."""
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
    quiet_faust_logging()
    app: Any = FACTORIES[role](settings, web=web)
    Path(app.conf.datadir).mkdir(parents=True, exist_ok=True)  # faust makes only the last part
    create_changelogs(app, settings)
    structlog.get_logger("streams.worker").info(
        "worker_starting", role=role, app_id=app.conf.id, partitions=settings.topic_partitions
    )
    worker = faust.Worker(
        app,
        loglevel=logging.getLogger().getEffectiveLevel(),
        quiet=True,  # no start-up banner on stdout
        redirect_stdouts=False,
        override_logging=False,  # keep the process's logging set-up
    )
    # The progress spinner writes terminal escape codes into the log stream.
    worker.spinner = None
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        # mode exits with SystemExit(0) after a clean shutdown; anything else is a failure.
        if exc.code not in (0, None):
            raise


def create_changelogs(app: Any, settings: MediaSettings) -> None:
    """Creates the app's table changelogs before faust starts, as faust would.

    faust creates them itself at start-up but then refreshes only its producer's
    metadata: two processes starting together on a cluster that refuses auto-created
    topics can leave one of them without the changelog in its consumer's view, and it
    then dead-letters every event (``PartitionsMismatch``). A fresh loop, not
    ``asyncio.run``: that would leave no current loop for faust's worker.
    """
    names = [table.changelog_topic.get_topic_name() for table in app.tables.values()]
    loop = asyncio.new_event_loop()
    try:
        for name in names:
            loop.run_until_complete(
                ensure_compacted(
                    settings.kafka,
                    name,
                    settings.topic_partitions,
                    settings.topic_replication_factor,
                )
            )
    finally:
        loop.close()
