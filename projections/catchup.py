"""A bounded projector run: from the stored positions up to given end offsets, then stop."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiokafka import TopicPartition

from projections.batch import RunStats
from projections.config import PROJECTION, ProjectorSettings
from projections.positions import Positions
from projections.progress import ProgressCallback, ProgressMeter
from projections.projector import Projector


def records_between(start: Positions, until: Mapping[TopicPartition, int]) -> int:
    """How many offsets lie between the positions and the ends (unknown = from 0)."""
    return sum(max(end - start.get(tp, 0), 0) for tp, end in until.items())


async def catch_up(
    settings: ProjectorSettings,
    *,
    schema: str,
    until: Mapping[TopicPartition, int],
    start: Positions,
    projection: str = PROJECTION,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    migrate_schema: bool = True,
) -> RunStats:
    """``until`` names every partition to read (so the projector needs no look-up)."""
    meter = ProgressMeter(records_between(start, until), progress)
    projector = Projector(
        settings,
        schema=schema,
        projection=projection,
        until=until,
        on_batch=lambda stats: meter.update(stats.records),
        migrate_schema=migrate_schema,
        partitions=list(until),
    )
    stats = await projector.run(stop or asyncio.Event())
    meter.update(stats.records, force=True)
    return stats
