"""WaveStack: the client a bot holds - commands, reads, uploads and waiting for outcomes."""

from __future__ import annotations

import asyncio
import uuid
from types import TracebackType

import aiohttp

from client.commands import Commands
from client.errors import CommandRejected, NotFound, OutcomeTimeout
from client.http import Http, RetryPolicy, TokenProvider
from client.models import Accepted, CommandOutcome
from client.reads import Reads
from client.uploads import Uploads

# Polling a command's outcome: quick at first (most are decided within milliseconds),
# then backing off so a slow one does not cost a request every 100 ms.
FIRST_POLL = 0.05
MAX_POLL = 1.0


class WaveStack(Commands, Reads, Uploads):
    """``async with WaveStack(url, token=...) as ws:`` - or ``token_provider``, an async
    callable asked for a token at the first request and again after a 401."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        token_provider: TokenProvider | None = None,
        session: aiohttp.ClientSession | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
    ) -> None:
        self._http = Http(
            base_url,
            token=token,
            token_provider=token_provider,
            session=session,
            retry=retry or RetryPolicy(),
            timeout=timeout,
        )

    async def __aenter__(self) -> WaveStack:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the HTTP session (unless it was handed in)."""
        await self._http.close()

    async def wait_for_outcome(
        self,
        command: Accepted | uuid.UUID | str,
        # The documented signature (docs/sdk.md): a bot rarely holds a deadline scope.
        timeout: float = 30.0,  # noqa: ASYNC109
        *,
        check: bool = False,
    ) -> CommandOutcome:
        """Polls until the command is applied, duplicate or rejected.

        ``check``: raise CommandRejected for a rejected one. OutcomeTimeout when no
        final outcome came within ``timeout`` seconds (the command may still apply).
        """
        command_id = command.command_id if isinstance(command, Accepted) else command
        try:
            async with asyncio.timeout(timeout):
                outcome = await self._poll(command_id)
        except TimeoutError as exc:
            raise OutcomeTimeout(f"no outcome for command {command_id} in {timeout} s") from exc
        if check and outcome.outcome == "rejected":
            raise CommandRejected(outcome)
        return outcome

    async def _poll(self, command_id: uuid.UUID | str) -> CommandOutcome:
        pause = FIRST_POLL
        while True:
            try:
                outcome = await self.command(command_id)
            except NotFound:  # accepted, not projected yet
                outcome = None
            if outcome is not None and outcome.final:
                return outcome
            await asyncio.sleep(pause)
            pause = min(MAX_POLL, pause * 1.5)
