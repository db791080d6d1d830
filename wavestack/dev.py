"""`wavestack dev`: API, decider, media app, publisher and projector as child processes.

Children are separate processes (not tasks in one loop) so the stack behaves as it
does when deployed, and a crash in one shows up as that process exiting. Each
child's output is prefixed with its name. Ctrl-C or SIGTERM stops them all. Without
WAVESTACK_SECRET_KEY, the children get a local key ring from `.stack/secret-key`
(generated once, mode 0600), and egress to private addresses is allowed unless
WAVESTACK_EGRESS_ALLOW_PRIVATE says otherwise: local receivers are the point of dev.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
import time
import uuid

import aiohttp

from wavestack.ops import create_topics, migrate_read_model
from wavestack.receiver import VERIFIED
from wavestack.secrets import create_key_table, dev_secret_key
from wavestack.settings import Settings

# Each child's name and its `wavestack` arguments.
CHILDREN: dict[str, tuple[str, ...]] = {
    "api": ("api",),
    "decider": ("worker", "--role", "decider"),
    "media": ("worker", "--role", "media"),
    "publisher": ("publisher",),
    "integrations": ("worker", "--role", "integrations"),
    "webhooks": ("worker", "--role", "webhooks"),
    "projector": ("projector",),
}
COLOURS = {
    "api": "\033[36m",
    "decider": "\033[35m",
    "media": "\033[32m",
    "publisher": "\033[34m",
    "integrations": "\033[31m",
    "webhooks": "\033[94m",
    "projector": "\033[33m",
}
DEMO_ORG = "demo"
DEMO_SCOPES = (
    "queue:write clips:write projects:write assets:write connections:write integrations:write "
    "webhooks:write read audit:read"
)
# Prints the `id` of the JSON answer on stdin (the banner's commands chain on it), or
# the whole answer on stderr when it has none (a problem+json the user should see).
ID_OF_ANSWER = (
    "python -c 'import json, sys; a = json.load(sys.stdin); "
    'print(a.get("id") or sys.exit(json.dumps(a)))\''
)
TEN_SECONDS_AHEAD = (
    "python -c 'import datetime as d; "
    "print((d.datetime.now(d.UTC) + d.timedelta(seconds=10)).isoformat())'"
)


async def _pump(name: str, stream: asyncio.StreamReader) -> None:
    tty = sys.stdout.isatty()
    prefix = f"{COLOURS[name]}{name:>9} |\033[0m " if tty else f"{name:>9} | "
    while line := await stream.readline():
        sys.stdout.write(prefix + line.decode(errors="replace"))
        sys.stdout.flush()


def child_env(settings: Settings) -> dict[str, str]:
    """The children's environment: the caller's, plus dev's key ring and egress default."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if settings.secret_key is None:
        env["WAVESTACK_SECRET_KEY"] = dev_secret_key()
    env.setdefault("WAVESTACK_EGRESS_ALLOW_PRIVATE", "true")
    return env


async def _start(name: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wavestack.cli",
        *CHILDREN[name],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )


async def _wait_ready(settings: Settings, within: float = 60.0) -> None:
    url = f"http://{settings.api_host}:{settings.api_port}/readyz"
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.3)
    raise TimeoutError(f"the API was not ready at {url} within {within:.0f} s")


async def _create_demo(settings: Settings, token: str, within: float = 60.0) -> str:
    """Creates the demo organization's first project and waits until it is readable.

    Seeing it through the API means the worker decided it and the projector wrote
    it: the whole pipeline is up, so the banner printed next tells the truth.
    """
    base = f"http://{settings.api_host}:{settings.api_port}"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        async with session.post(
            f"{base}/v1/projects",
            json={"name": "Demo project"},
            headers={"Idempotency-Key": "demo-project"},
        ) as resp:
            project_id = str((await resp.json()).get("id", ""))
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            async with session.get(f"{base}/v1/projects/{project_id}") as resp:
                if resp.status == 200:
                    return project_id
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the demo project did not reach the read model within {within:.0f} s")


def _banner(settings: Settings, token: str, project_id: str) -> str:
    """What to do first: run a local receiver, connect it, queue a post 10 s ahead.

    The secret and the idempotency keys are new each run, so the commands work again
    after a restart (the same key with other credentials would be refused).
    """
    base = f"http://{settings.api_host}:{settings.api_port}"
    port = receiver_port(settings)
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    run = uuid.uuid4().hex[:6]
    auth = '-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json"'
    credentials = {"url": f"http://127.0.0.1:{port}/hook", "secret": secret}
    connection = json.dumps(
        {"platform": "webhook", "name": "Local receiver", "credentials": credentials}
    )
    # Single-quoted JSON, reopened ('"'$X'"') where the shell fills in a variable.
    item = (
        '{"platform": "webhook", "title": "My first post", '
        """"connection_id": "'$CONNECTION'", "schedule_at": "'$AT'"}"""
    )
    return f"""
WaveStack is running: API {base}, organization "{DEMO_ORG}" (demo project {project_id}).

  export TOKEN={token}

Publish a post to a local webhook receiver. In another terminal (same virtualenv):

  python -m wavestack.receiver --port {port} --secret {secret}

Then connect it and queue a post on it, due in 10 seconds:

  export CONNECTION=$(curl -s -X POST {base}/v1/connections \\
    {auth} -H "Idempotency-Key: hook-{run}" \\
    -d '{connection}' \\
    | {ID_OF_ANSWER})

  export AT=$({TEN_SECONDS_AHEAD})

  export ITEM=$(curl -s -X POST {base}/v1/queue \\
    {auth} -H "Idempotency-Key: post-{run}" \\
    -d '{item}' \\
    | {ID_OF_ANSWER})

The receiver prints "{VERIFIED} ..." at that time; the item then shows its post:

  curl -s {base}/v1/queue/$ITEM -H "Authorization: Bearer $TOKEN"

Ctrl-C stops everything.
"""


def receiver_port(settings: Settings) -> int:
    """The banner's receiver port: next to the API's, so two dev stacks don't collide."""
    return settings.api_port + 1 if settings.api_port < 65535 else settings.api_port - 1


async def _stop(procs: dict[str, asyncio.subprocess.Process]) -> None:
    for proc in procs.values():
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    for name, proc in procs.items():
        try:
            await asyncio.wait_for(proc.wait(), timeout=15)
        except TimeoutError:
            print(f"{name} did not stop within 15 s; killing it", file=sys.stderr)
            proc.kill()
            await proc.wait()


async def _run(settings: Settings) -> int:
    await create_topics(settings)
    await migrate_read_model(settings)
    await create_key_table(settings)
    env = child_env(settings)
    procs = {name: await _start(name, env) for name in CHILDREN}
    pumps = [
        asyncio.create_task(_pump(name, proc.stdout))
        for name, proc in procs.items()
        if proc.stdout is not None
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    exited = [asyncio.create_task(p.wait()) for p in procs.values()]
    stopper = asyncio.create_task(stop.wait())
    try:
        # Start-up races Ctrl-C and any child dying (a port in use, a bad setting).
        starting = asyncio.create_task(_start_up(settings))
        done, _ = await asyncio.wait(
            [starting, stopper, *exited], return_when=asyncio.FIRST_COMPLETED
        )
        if starting in done:
            print(starting.result(), flush=True)
            done, _ = await asyncio.wait([stopper, *exited], return_when=asyncio.FIRST_COMPLETED)
        else:
            starting.cancel()
        if stopper in done:
            return 0
        crashed = [n for n, p in procs.items() if p.returncode is not None]
        print(f"wavestack dev: stopping, {', '.join(crashed)} exited", file=sys.stderr)
        return 1
    except TimeoutError as exc:
        print(f"wavestack dev: {exc}", file=sys.stderr)
        return 1
    finally:
        await _stop(procs)
        for task in pumps:
            task.cancel()


async def _start_up(settings: Settings) -> str:
    """Waits for the API, creates the demo data; returns the banner to print."""
    from api.auth.cli import issue_token_from_settings

    await _wait_ready(settings)
    token = issue_token_from_settings(
        settings, org=DEMO_ORG, sub="demo-user", scope=DEMO_SCOPES, ttl=86400, kind="user"
    )
    project_id = await _create_demo(settings, token)
    return _banner(settings, token, project_id)


def run_dev(settings: Settings) -> int:
    return asyncio.run(_run(settings))
