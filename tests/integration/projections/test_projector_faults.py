"""Crashes and outages: the read model ends up with every record exactly once."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from projections.kafka import log_ends
from tests.integration.projections.projection_support import (
    FINAL,
    eventually,
    projector_running,
    read_topic,
    stored_positions,
    stream,
    wait_caught_up,
)
from tests.processes import settings_env
from wavestack.settings import Settings


async def assert_projected_exactly_once(
    settings: Settings, db: asyncpg.Connection, items: list[uuid.UUID]
) -> None:
    n = len(items)
    assert await db.fetchval("SELECT count(*) FROM events") == 3 * n
    assert await db.fetchval("SELECT count(*) FROM commands WHERE outcome = 'pending'") == n
    rows = await db.fetch("SELECT id, version, schedule_at FROM queue_items")
    assert {r["id"] for r in rows} == set(items)
    assert {(r["version"], r["schedule_at"]) for r in rows} == {(3, FINAL)}
    ends = await log_ends(settings.kafka_bootstrap, settings.topics)
    assert await stored_positions(db) == {tp: end for tp, end in ends.items() if end > 0}
    assert await read_topic(settings, settings.topics.dlq, timeout=1) == []


async def count_events(db: asyncpg.Connection) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM events")
    return count


class ProjectorProcess:
    """tests/integration/projections/run_projector.py as a real child process."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self._env = settings_env(settings)
        self._log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self._log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.integration.projections.run_projector",
                stdout=log,
                stderr=log,
                env=self._env,
            )

    async def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        async def logged() -> bool:
            assert self.proc is not None and self.proc.returncode is None, self.output()
            return text in self.output()

        await eventually(logged, timeout)

    def output(self) -> str:
        return self._log_path.read_text(errors="replace")

    async def kill(self) -> int:
        assert self.proc is not None
        self.proc.kill()
        return await self.proc.wait()

    async def terminate(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return await asyncio.wait_for(self.proc.wait(), 30)


@pytest.mark.slow
async def test_a_projector_killed_mid_stream_resumes_and_applies_every_record_exactly_once(
    settings: Settings, db: asyncpg.Connection, tmp_path: Path
) -> None:
    items = [uuid.uuid4() for _ in range(1000)]
    projector = ProjectorProcess(settings, tmp_path / "projector.log")
    await projector.start()
    await projector.wait_for_log("partitions assigned")
    traffic = asyncio.create_task(stream(settings, items, chunk=50, pause=0.1))

    async def some_projected() -> bool:
        return await count_events(db) >= 600

    await eventually(some_projected)
    assert await projector.kill() == -9
    seen_at_kill = await count_events(db)
    await projector.start()
    await traffic
    await wait_caught_up(settings, db, timeout=90)
    assert await projector.terminate() == 0  # SIGTERM: a clean stop

    assert 0 < seen_at_kill < 3 * len(items)
    await assert_projected_exactly_once(settings, db, items)
    assert "projector stopped" in projector.output()


async def terminate_projector_sessions(
    db: asyncpg.Connection, settings: Settings, *, waiting: bool = False
) -> int:
    """Ends the projector's database sessions the way a server restart does."""
    rows = await db.fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = $1 AND ($2 = false OR wait_event_type = 'Lock')",
        f"wavestack-projector-{settings.db_schema}",
        waiting,
    )
    return len(rows)


@pytest.mark.slow
async def test_a_lost_database_session_is_retried_and_never_dead_letters(
    settings: Settings, db: asyncpg.Connection
) -> None:
    items = [uuid.uuid4() for _ in range(300)]
    async with projector_running(settings) as projector:
        await stream(settings, items[:20], chunk=20, pause=0)
        await wait_caught_up(settings, db)
        # Hold the projection's row lock so the next batch is surely inside its
        # transaction when its session dies.
        blocker = await asyncpg.connect(
            settings.dsn, server_settings={"search_path": settings.db_schema}
        )
        async with blocker.transaction():
            await blocker.execute("SELECT * FROM projection_state FOR UPDATE")
            traffic = asyncio.create_task(stream(settings, items[20:], chunk=20, pause=0.1))

            async def killed_while_waiting() -> bool:
                return await terminate_projector_sessions(db, settings, waiting=True) == 1

            await eventually(killed_while_waiting)
        await blocker.close()
        terminated = 1
        while not traffic.done():  # and more outages, whenever they fall
            terminated += await terminate_projector_sessions(db, settings)
            await asyncio.sleep(0.3)
        await traffic
        await wait_caught_up(settings, db, timeout=60)

    assert terminated >= 2
    assert projector.stats.retries >= 1
    assert projector.stats.dead_lettered == 0
    await assert_projected_exactly_once(settings, db, items)
