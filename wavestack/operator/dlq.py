"""`wavestack dlq list | show | replay`: what the operator sees of the dead-letter queue."""

from __future__ import annotations

import json
import sys
from typing import Any

import asyncpg

from projections.db import connect
from wavestack.operator import redact
from wavestack.operator.letters import Letter, LetterFilter, read_letter, read_letters
from wavestack.operator.replay import ReplaySummary, replay, replay_counts
from wavestack.progress import progress_display
from wavestack.settings import Settings

REASON_CHARS = 100  # of a reason in `list`; `show` has all of it


def summary_of(letter: Letter, replays: int) -> dict[str, Any]:
    source = letter.source
    return {
        "id": letter.id,
        "at": letter.at.isoformat(),
        "source": letter.source_text,
        "source_topic": source[0] if source else None,
        "source_partition": source[1] if source else None,
        "source_offset": source[2] if source else None,
        "consumer": letter.consumer,
        "cause": letter.cause,
        "reason": letter.reason,
        "replays": replays,
    }


async def _replays(settings: Settings) -> dict[str, int]:
    """Replay counts from the journal; {} (and the list still shows) if it can't be read."""
    try:
        conn = await connect(settings.dsn, settings.db_schema, purpose="dlq-list")
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return {}
    try:
        return await replay_counts(conn, settings.db_schema, settings.topics.dlq)
    finally:
        await conn.close()


async def dlq_list(settings: Settings, wanted: LetterFilter, as_json: bool) -> int:
    replays = await _replays(settings)
    count = 0
    async for letter in read_letters(settings.kafka, settings.topics.dlq, wanted):
        count += 1
        entry = summary_of(letter, replays.get(letter.id, 0))
        if as_json:
            print(json.dumps(entry))
            continue
        reason = letter.reason.replace("\n", " ")
        if len(reason) > REASON_CHARS:
            reason = reason[: REASON_CHARS - 3] + "..."
        again = f"  replayed {entry['replays']}x" if entry["replays"] else ""
        print(
            f"{letter.id:<10} {letter.at.isoformat(timespec='seconds')}  "
            f"{letter.source_text}  by {letter.consumer}  {letter.cause}{again}\n"
            f"           {reason}"
        )
    if not as_json:
        print(f"{count} dead letter(s) on {settings.topics.dlq}")
    return 0


async def dlq_show(settings: Settings, letter_id: str, as_json: bool) -> int:
    letter = await read_letter(settings.kafka, settings.topics.dlq, letter_id)
    headers = [(k, redact.header_text(k, v)) for k, v in letter.headers]
    key = "(none)" if letter.key is None else letter.key.decode(errors="replace")
    if as_json:
        entry = summary_of(letter, (await _replays(settings)).get(letter.id, 0))
        try:
            payload: Any = redact.redact(json.loads(letter.value or b""))
        except ValueError:
            payload = redact.pretty(letter.value)
        entry.update(key=key, headers=[list(h) for h in headers], payload=payload)
        print(json.dumps(entry, ensure_ascii=False))
        return 0
    print(f"letter {letter.id} on {letter.topic} (received {letter.timestamp.isoformat()})")
    print(f"source:   {letter.source_text}")
    print(f"refused:  by {letter.consumer} at {letter.at.isoformat()}")
    print(f"cause:    {letter.cause}")
    print(f"reason:   {letter.reason}")
    print(f"key:      {key}")
    print("headers:")
    for name, value in headers:
        print(f"  {name}: {value}")
    print("payload (secret-looking values redacted):")
    print(redact.pretty(letter.value))
    return 0


async def dlq_replay(settings: Settings, wanted: LetterFilter, dry_run: bool) -> int:
    label = "dlq replay (dry run)" if dry_run else "dlq replay"
    with progress_display(label, unit="letters") as progress:
        summary = await replay(settings, wanted, dry_run=dry_run, progress=progress)
    print_summary(summary)
    return 0 if not summary.refused else 1


def print_summary(s: ReplaySummary) -> None:
    verb = "would re-publish" if s.dry_run else "re-published"
    for r in s.replayed:
        print(f"{verb} {r.letter} ({r.source}) -> {r.target}")
    for letter in s.copies:
        print(f"skipped {letter}: a copy of a record already re-published in this run")
    for letter, why in s.refused:
        print(f"refused {letter}: {why}", file=sys.stderr)
    run = "" if s.dry_run else f" (run {s.run_id})"
    print(
        f"{s.matched} letter(s) matched: {len(s.replayed)} {verb}, {len(s.copies)} copies "
        f"skipped, {len(s.refused)} refused{run}"
    )
