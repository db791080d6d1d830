"""Discord interactions: a signed /queue interaction -> its deferred answer (type 5).

The API, the decider (`wavestack worker`), the projector and the integrations consumer
run as child processes, as users run them; the integration is made through
POST /v1/integrations. Interactions are signed as Discord signs them (Ed25519 over
timestamp + body, the fake application of the tests) and leave on an open-loop
schedule (interaction n at start + n/RATE). Each is timed from its send to the
answer's body: Discord's deadline is 3 s, our target 250 ms at p99.

- quiet: interactions only; then /v1/queue posts at the same rate, for reference (an
  interaction is that command plus a signature check, an integration read and the
  sealed token's insert);
- loaded: the same while another organization posts /v1/queue at LOAD_RATE/s;
- limit: a bare aiohttp handler in its own process that verifies the same signed
  request and answers type 5 (`python -m tests.bench.discord PORT PUBLIC_KEY`).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.auth.cli import issue_token_from_settings
from tests.bench.harness import percentile, running, wait_http
from tests.fakes.discord_interactions import FakeDiscordApplication
from tests.processes import Child, free_port, settings_env
from vault.keyring import generate_entry
from wavestack.settings import Settings

RATE = 20
SECONDS = 5
LOAD_RATE = 300
TARGET_MS = 250.0
DEADLINE_MS = 3000.0
# Whatever has no answer this long after its send counts as unanswered.
ANSWER_TIMEOUT_S = 10.0
DEFERRED = 5


@dataclass
class Timings:
    ms: list[float] = field(default_factory=list)
    wrong: int = 0  # answered, but not with a deferred response
    unanswered: int = 0

    def figures(self, label: str) -> dict[str, float]:
        return {
            f"{label}: answered": float(len(self.ms)),
            f"{label}: refused or unanswered": float(self.wrong + self.unanswered),
            f"{label}: p50 ms": percentile(self.ms, 50),
            f"{label}: p99 ms": percentile(self.ms, 99),
            f"{label}: max ms": max(self.ms, default=float("nan")),
        }


async def open_loop(
    rate: float, seconds: float, one: Callable[[int], Coroutine[Any, Any, None]]
) -> None:
    tasks = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)


async def interactions(
    session: aiohttp.ClientSession, url: str, discord: FakeDiscordApplication, label: str
) -> Timings:
    timings = Timings()

    async def one(n: int) -> None:
        interaction = discord.command("queue", {"title": f"{label} {n}", "platform": "youtube"})
        headers = discord.headers(interaction.body)
        started = time.perf_counter()
        try:
            async with session.post(url, data=interaction.body, headers=headers) as resp:
                answer = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            timings.unanswered += 1
            return
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status == 200 and isinstance(answer, dict) and answer.get("type") == DEFERRED:
            timings.ms.append(elapsed)
        else:
            timings.wrong += 1

    await open_loop(RATE, SECONDS, one)
    return timings


async def queue_posts(
    session: aiohttp.ClientSession, base: str, token: str, rate: float, seconds: float, tag: str
) -> Timings:
    """POST /v1/queue at ``rate``/s for ``seconds``: the 202s' times. At RATE it is the
    reference for a command through this API now; as the load, a slow answer here too
    says the API as a whole is behind, not the interactions handler."""
    timings = Timings()
    headers = {"Authorization": f"Bearer {token}"}

    async def one(n: int) -> None:
        body = {"platform": "youtube", "title": f"load {n}"}
        started = time.perf_counter()
        try:
            async with session.post(
                f"{base}/v1/queue", json=body, headers={**headers, "Idempotency-Key": f"{tag}-{n}"}
            ) as resp:
                await resp.read()
        except (aiohttp.ClientError, TimeoutError):
            timings.unanswered += 1
            return
        if resp.status == 202:
            timings.ms.append((time.perf_counter() - started) * 1000)
        else:
            timings.wrong += 1

    await open_loop(rate, seconds, one)
    return timings


async def _integration(base: str, token: str, discord: FakeDiscordApplication) -> str:
    """The bot binding, made as a user makes it; its interactions URL once projected."""
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(
            f"{base}/v1/integrations",
            json={
                "platform": "discord",
                "name": "Bench bot",
                "application_id": discord.application_id,
                "public_key": discord.public_key,
                "scopes": ["queue:write", "read"],
            },
            headers={"Idempotency-Key": "bench-discord"},
        ) as resp:
            if resp.status != 202:
                raise RuntimeError(f"POST /v1/integrations: {resp.status} {await resp.text()}")
            integration_id = (await resp.json())["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            async with session.get(f"{base}/v1/integrations/{integration_id}") as resp:
                if resp.status == 200:
                    return f"{base}/integrations/discord/{integration_id}/interactions"
            await asyncio.sleep(0.2)
    raise TimeoutError("the integration was never projected")


async def _bare(settings: Settings, discord: FakeDiscordApplication) -> Timings:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "tests.bench.discord", str(port), discord.public_key),
        env=settings_env(settings),
    )
    try:
        await wait_http(f"http://127.0.0.1:{port}/")
        url = f"http://127.0.0.1:{port}/interactions"
        async with _client() as session:
            await interactions(session, url, discord, "warm-up")
            return await interactions(session, url, discord, "bare")
    finally:
        proc.terminate()
        await proc.wait()


def _client() -> aiohttp.ClientSession:
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT_S)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200), timeout=timeout)


async def run(settings: Settings, workdir: Path) -> dict[str, float | str]:
    discord = FakeDiscordApplication()
    await discord.start()
    try:
        settings = Settings(
            **{
                **settings.model_dump(),
                "secret_key": generate_entry("bench"),
                "platform_discord_base_url": discord.api_base,
                # Its own Faust data dir: an earlier benchmark's RocksDB files would not fit.
                "worker_data_dir": workdir / f"faust-{settings.topic_prefix}",
            }
        )
        base = f"http://127.0.0.1:{settings.api_port}"
        owner = issue_token_from_settings(
            settings, org="bench", sub="bench-owner", scope="integrations:write queue:write read"
        )
        loader = issue_token_from_settings(
            settings, org="bench-load", sub="bench-load", scope="queue:write", kind="bot"
        )
        children = [
            Child("api", settings, workdir, name="discord-api"),
            Child("worker", settings, workdir, name="discord-worker"),
            Child("projector", settings, workdir, name="discord-projector"),
            Child("worker", settings, workdir, args=("--role", "integrations"), name="discord-int"),
        ]
        async with running(*children):
            await wait_http(f"{base}/readyz")
            url = await _integration(base, owner, discord)
            # Two sessions: the load must not hold the connections interactions wait for.
            async with _client() as session, _client() as load_session:
                await interactions(session, url, discord, "warm-up")
                quiet = await interactions(session, url, discord, "quiet")
                reference = await queue_posts(session, base, loader, RATE, SECONDS, "ref")
                load = asyncio.create_task(
                    queue_posts(load_session, base, loader, LOAD_RATE, SECONDS + 1, "load")
                )
                await asyncio.sleep(1)  # the load is at its rate before the first interaction
                loaded = await interactions(session, url, discord, "loaded")
                background = await load
            exited = [c.command for c in children if c.proc and c.proc.returncode is not None]
        bare = await _bare(settings, discord)
    finally:
        await discord.stop()
    figures: dict[str, float | str] = {
        "interactions/s": float(RATE),
        "exited during the run": ", ".join(exited) or "none",
    }
    for label, timings in (
        ("quiet", quiet),
        (f"quiet /v1/queue at {RATE}/s", reference),
        ("loaded", loaded),
        (f"the load, /v1/queue at {LOAD_RATE}/s", background),
        ("bare limit", bare),
    ):
        figures.update(timings.figures(label))
    figures["target p99 ms"] = TARGET_MS
    figures["Discord deadline ms"] = DEADLINE_MS
    return figures


def serve(port: int, public_key_hex: str) -> None:
    """The limit: verify the signature as Discord asks, parse, answer deferred."""
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))

    async def interaction(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            key.verify(
                bytes.fromhex(request.headers["X-Signature-Ed25519"]),
                request.headers["X-Signature-Timestamp"].encode() + body,
            )
        except (KeyError, ValueError, InvalidSignature):
            return web.Response(status=401)
        payload = json.loads(body)
        if payload.get("type") == 1:
            return web.json_response({"type": 1})
        return web.json_response({"type": DEFERRED})

    async def alive(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/interactions", interaction)
    app.router.add_get("/", alive)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2])
