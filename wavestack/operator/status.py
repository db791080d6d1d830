"""`wavestack status`: consumer lag, commands without an outcome, overdue items, DLQ size.

Kafka and PostgreSQL are asked separately, so with one of them down the screen
still shows what the other knows, plus a line naming the one that is down.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka.errors import KafkaError

from projections import health
from projections.config import PROJECTION
from projections.db import connect
from projections.doctor import StuckCommand, stuck_commands
from projections.health import PartitionLag
from wavestack.settings import Settings

# A service that does not answer within this is reported down (a closed port fails
# at once; a black-holed one would otherwise hang the screen).
SERVICE_TIMEOUT = 10.0
SHOWN_COMMANDS = 20

DOWN_ERRORS = (OSError, KafkaError, TimeoutError)


@dataclass
class StatusReport:
    prefix: str
    schema: str
    at: datetime
    older_than: float
    grace: float
    kafka_error: str | None = None  # unreachable
    database_error: str | None = None
    problems: list[str] = field(default_factory=list)  # reachable, but a topic or table missing
    lags: list[PartitionLag] | None = None
    stuck: list[StuckCommand] | None = None
    overdue: dict[str, int] | None = None
    dlq: int | None = None

    @property
    def healthy(self) -> bool:
        return self.kafka_error is None and self.database_error is None and not self.problems


async def gather(settings: Settings, older_than: float, grace: float) -> StatusReport:
    now = datetime.now(UTC)
    report = StatusReport(settings.topic_prefix, settings.db_schema, now, older_than, grace)
    bootstrap, topics = settings.kafka, settings.topics
    try:
        async with asyncio.timeout(SERVICE_TIMEOUT):
            report.lags = await health.group_lags(bootstrap, topics.prefix)
            report.dlq = await health.dlq_size(bootstrap, topics.dlq)
    except LookupError as exc:
        report.problems.append(f"Kafka: {exc.args[0] if exc.args else exc}")
    except DOWN_ERRORS as exc:
        report.kafka_error = _down(exc, f"Kafka at {settings.kafka_bootstrap}")
    try:
        async with asyncio.timeout(SERVICE_TIMEOUT):
            conn = await connect(settings.dsn, settings.db_schema, purpose="status")
    except (*DOWN_ERRORS, asyncpg.PostgresError) as exc:
        report.database_error = _down(exc, "PostgreSQL")
        return report
    try:
        async with asyncio.timeout(SERVICE_TIMEOUT):
            report.stuck = await stuck_commands(conn, timedelta(seconds=older_than), now)
            report.overdue = await health.overdue_items(conn, grace)
            if report.lags is not None:
                report.lags.extend(
                    await health.projector_lags(
                        conn, bootstrap, topics, settings.db_schema, PROJECTION
                    )
                )
    except asyncpg.UndefinedTableError:
        report.problems.append(
            f"PostgreSQL: schema {settings.db_schema!r} has no read model (run `wavestack migrate`)"
        )
    except LookupError as exc:
        report.problems.append(f"Kafka: {exc.args[0] if exc.args else exc}")
    except (*DOWN_ERRORS, asyncpg.PostgresError) as exc:
        report.database_error = _down(exc, "PostgreSQL")
    finally:
        await conn.close()
    return report


def _down(exc: BaseException, service: str) -> str:
    detail = str(exc) or "no answer"
    if isinstance(exc, TimeoutError):
        detail = f"no answer within {SERVICE_TIMEOUT:.0f} s"
    if not detail.startswith(type(exc).__name__):
        detail = f"{type(exc).__name__}: {detail}"
    return f"{service} unreachable: {detail}"


def _unknown(r: StatusReport, service: str) -> str:
    down = r.kafka_error if service == "Kafka" else r.database_error
    return f"unknown ({service} is down)" if down else "unknown (see below)"


def render_text(r: StatusReport) -> str:
    lines = [f"WaveStack status: prefix {r.prefix}, schema {r.schema}, at {r.at.isoformat()}", ""]
    lines.append("Consumer lag (position = next offset to read)")
    if r.lags is None:
        lines.append(f"  {_unknown(r, 'Kafka')}")
    elif not r.lags:
        lines.append("  no consumer group of this prefix has a position yet")
    else:
        width = max(len(lag.group) for lag in r.lags)
        lines.append(
            f"  {'GROUP':<{width}}  {'TOPIC':<30} {'PART':>4} {'POSITION':>10} "
            f"{'END':>10} {'LAG':>8}"
        )
        for lag in r.lags:
            pos = "-" if lag.committed is None else str(lag.committed)
            lines.append(
                f"  {lag.group:<{width}}  {lag.topic:<30} {lag.partition:>4} {pos:>10} "
                f"{lag.end:>10} {lag.lag:>8}"
            )
        for group, total in health.total_lag(r.lags).items():
            lines.append(f"  total {group}: {total}")
    lines.append("")
    if r.stuck is None:
        lines.append(f"Commands without an outcome: {_unknown(r, 'PostgreSQL')}")
    else:
        lines.append(
            f"Commands without an outcome (pending > {r.older_than:.0f} s): {len(r.stuck)}"
        )
        for s in r.stuck[:SHOWN_COMMANDS]:
            lines.append(f"  {s.command_id} {s.type} org {s.org_id}, {s.age.total_seconds():.0f} s")
        if len(r.stuck) > SHOWN_COMMANDS:
            lines.append(f"  ... and {len(r.stuck) - SHOWN_COMMANDS} more (`wavestack doctor`)")
    if r.overdue is None:
        lines.append(f"Overdue queue items: {_unknown(r, 'PostgreSQL')}")
    else:
        by = ", ".join(f"{p} {n}" for p, n in r.overdue.items())
        total = sum(r.overdue.values())
        lines.append(
            f"Overdue queue items (> {r.grace:.0f} s past due): {total}"
            + (f" ({by})" if by else "")
        )
    if r.dlq is None:
        lines.append(f"Dead letters: {_unknown(r, 'Kafka')}")
    else:
        lines.append(f"Dead letters on {r.prefix}.dlq: {r.dlq}")
    for error in (r.kafka_error, r.database_error):
        if error is not None:
            lines.append(f"DOWN: {error}")
    lines.extend(f"PROBLEM: {p}" for p in r.problems)
    return "\n".join(lines) + "\n"


def render_json(r: StatusReport) -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {}
    for lag in r.lags or ():
        entry = groups.setdefault(lag.group, {"group": lag.group, "lag": 0, "partitions": []})
        entry["lag"] += lag.lag
        entry["partitions"].append(
            {
                "topic": lag.topic,
                "partition": lag.partition,
                "position": lag.committed,
                "end": lag.end,
                "lag": lag.lag,
            }
        )
    return {
        "at": r.at.isoformat(),
        "prefix": r.prefix,
        "schema": r.schema,
        "kafka": {"ok": r.kafka_error is None, "error": r.kafka_error},
        "database": {"ok": r.database_error is None, "error": r.database_error},
        "problems": r.problems,
        "consumer_groups": None if r.lags is None else list(groups.values()),
        "commands_without_outcome": None
        if r.stuck is None
        else {
            "older_than_seconds": r.older_than,
            "count": len(r.stuck),
            "commands": [
                {
                    "command_id": str(s.command_id),
                    "type": s.type,
                    "org_id": s.org_id,
                    "age_seconds": s.age.total_seconds(),
                }
                for s in r.stuck[:SHOWN_COMMANDS]
            ],
        },
        "overdue_items": None
        if r.overdue is None
        else {"grace_seconds": r.grace, "count": sum(r.overdue.values()), "by_platform": r.overdue},
        "dlq": None if r.dlq is None else {"topic": f"{r.prefix}.dlq", "messages": r.dlq},
    }


async def status(settings: Settings, older_than: float, grace: float, as_json: bool) -> int:
    """Prints the screen; non-zero when Kafka or PostgreSQL could not be asked."""
    report = await gather(settings, older_than, grace)
    if as_json:
        print(json.dumps(render_json(report)))
    else:
        sys.stdout.write(render_text(report))
    return 0 if report.healthy else 1
