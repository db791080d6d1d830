"""Operator commands behind the CLI: topics, migrations, replay, rebuild, audit, doctor."""

from __future__ import annotations

import dataclasses
import json
import sys
import uuid
from datetime import datetime, timedelta

import asyncpg
import structlog
from aiokafka.errors import InvalidReplicationFactorError

import projections.audit
import projections.doctor
import projections.rebuild
import projections.redrive
import projections.replay
from projections.migrate import migrate
from wavestack.errors import UserError
from wavestack.progress import end_progress_line, progress_printer
from wavestack.settings import Settings
from wavestack.topics import ensure_topics_planned, replicas_by_topic

log = structlog.get_logger("wavestack.ops")


async def create_topics(settings: Settings) -> int:
    # An explicit WAVESTACK_TOPIC_REPLICATION_FACTOR wins; otherwise min(3, brokers).
    explicit = "topic_replication_factor" in settings.model_fields_set
    try:
        plan = await ensure_topics_planned(
            settings.kafka,
            settings.topics,
            settings.topic_partitions,
            settings.topic_replication_factor if explicit else None,
        )
    except InvalidReplicationFactorError as exc:
        raise UserError(
            f"WAVESTACK_TOPIC_REPLICATION_FACTOR={settings.topic_replication_factor} needs "
            "at least that many live brokers"
        ) from exc
    for name in settings.topics.all():
        log.info(
            "topic ready",
            topic=name,
            created=name in plan.created,
            replication_factor=plan.replication_factor,
            brokers=plan.brokers,
        )
    await _warn_under_replicated(settings, plan.replication_factor)
    return 0


async def _warn_under_replicated(settings: Settings, wanted: int) -> None:
    if settings.topic_replication_factor < wanted:
        # The streams processes create their changelogs themselves, with the setting.
        log.warning(
            "changelog topics will get fewer replicas than ours: set "
            "WAVESTACK_TOPIC_REPLICATION_FACTOR for every process",
            setting=settings.topic_replication_factor,
            wanted=wanted,
        )
    replicas = await replicas_by_topic(settings.kafka, settings.topic_prefix)
    for name, count in sorted(replicas.items()):
        if count < wanted:
            log.warning(
                "topic has fewer replicas than wanted (made earlier; reassign its "
                "partitions to change that)",
                topic=name,
                replicas=count,
                wanted=wanted,
            )


async def migrate_read_model(settings: Settings) -> int:
    conn = await asyncpg.connect(settings.dsn)
    try:
        applied = await migrate(conn, settings.db_schema)
    finally:
        await conn.close()
    log.info("read model migrated", schema=settings.db_schema, applied=applied)
    return 0


async def replay(
    settings: Settings, projection: str, from_beginning: bool, from_time: datetime | None
) -> int:
    try:
        summary = await projections.replay.replay(
            settings,
            projection,
            from_beginning=from_beginning,
            from_time=from_time,
            progress=progress_printer(f"replay {projection}"),
        )
    except ValueError as exc:  # an unknown projection name: the operator's mistake
        raise UserError(str(exc)) from exc
    finally:
        end_progress_line()
    print(
        f"replayed {summary.records} records into {summary.schema} in {summary.seconds:.1f} s: "
        f"{summary.applied} applied, {summary.skipped} already there, "
        f"{summary.dead_lettered} dead-lettered"
    )
    return 0


async def rebuild(settings: Settings, keep_old: bool) -> int:
    try:
        summary = await projections.rebuild.rebuild(
            settings, keep_old=keep_old, progress=progress_printer("rebuild")
        )
    finally:
        end_progress_line()
    kept = f"; the old model is kept as {summary.old_schema}" if summary.old_schema else ""
    print(
        f"rebuilt {summary.schema} from {summary.records} records in {summary.seconds:.1f} s "
        f"(checksum {summary.checksum}){kept}"
    )
    return 0


async def audit(settings: Settings, org: str, aggregate: str | None, as_json: bool) -> int:
    aggregate_id = _uuid(aggregate, "--aggregate") if aggregate else None
    entries = await projections.audit.audit(settings, org, aggregate_id)
    for e in entries:
        if as_json:
            print(json.dumps(dataclasses.asdict(e), default=str))
        else:
            print(
                f"{e.occurred_at.isoformat()}  {e.aggregate_type}:{e.aggregate_id} "
                f"#{e.sequence}  {e.type}  by {e.actor.get('sub')}  command {e.command_id}"
            )
    if not entries:
        print(f"no events for organization {org!r}", file=sys.stderr)
    return 0


async def doctor(settings: Settings, older_than: float, redrive: bool) -> int:
    stuck = await projections.doctor.doctor(settings, timedelta(seconds=older_than))
    for s in stuck:
        print(f"pending {s.age.total_seconds():.0f} s: {s.type} {s.command_id} (org {s.org_id})")
    if not stuck:
        print(f"no command has been pending for more than {older_than:.0f} s")
        return 0
    if not redrive:
        print(f"{len(stuck)} command(s) without an outcome; --redrive re-publishes them")
        return 1
    summary = await projections.redrive.redrive(settings, stuck)
    print(f"re-published {len(summary.redriven)} command(s) (scanned {summary.scanned} records)")
    for missing in summary.not_found:
        print(f"not found on the commands topic: {missing}", file=sys.stderr)
    return 0 if not summary.not_found else 1


def _uuid(value: str, option: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise UserError(f"{option} must be a UUID, got {value!r}") from exc
