"""The operator's subcommands (status, dlq, checksum): their arguments and handlers.

Kept out of wavestack/cli.py so the entry point stays a list of commands; modules
with clients are imported by the handlers, so `wavestack --help` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import datetime

from wavestack.settings import Settings

Handler = Callable[[Settings, argparse.Namespace], int]
Add = Callable[[str, Handler, str], argparse.ArgumentParser]


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from wavestack.operator.status import status

    return asyncio.run(status(settings, args.older_than, args.grace, args.json))


def cmd_checksum(settings: Settings, args: argparse.Namespace) -> int:
    from wavestack.operator.checksums import checksum

    return asyncio.run(checksum(settings, args.schema, args.json))


def cmd_dlq(settings: Settings, args: argparse.Namespace) -> int:
    from wavestack.operator import dlq
    from wavestack.operator.letters import LetterFilter

    if args.action == "show":
        return asyncio.run(dlq.dlq_show(settings, args.id, args.json))
    wanted = LetterFilter(
        ids=frozenset(args.ids or ()),
        source_topic=args.source_topic,
        reason_contains=args.reason_contains,
        since=args.since,
    )
    if args.action == "list":
        return asyncio.run(dlq.dlq_list(settings, wanted, args.json))
    return asyncio.run(dlq.dlq_replay(settings, wanted, args.dry_run))


def register(add: Add, time: Callable[[str], datetime]) -> None:
    status = add("status", cmd_status, "consumer lag, commands without outcome, overdue, DLQ size")
    status.add_argument(
        "--older-than", type=float, default=300.0, metavar="SECONDS", help="pending commands; 300"
    )
    status.add_argument(
        "--grace", type=float, default=60.0, metavar="SECONDS", help="overdue after; default 60"
    )
    status.add_argument("--json", action="store_true")

    dlq = add("dlq", cmd_dlq, "list, show and replay dead letters (<prefix>.dlq)")
    actions = dlq.add_subparsers(dest="action", required=True, metavar="ACTION")

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--id", dest="ids", action="append", metavar="P:O", help="repeatable")
        p.add_argument("--source-topic", default=None, metavar="TOPIC")
        p.add_argument("--reason-contains", default=None, metavar="TEXT")
        p.add_argument("--since", type=time, default=None, metavar="T")

    listing = actions.add_parser("list", help="the letters: id, when, source, cause, reason")
    filters(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    show = actions.add_parser("show", help="one letter: headers, reason, payload (redacted)")
    show.add_argument("id", metavar="ID", help="PARTITION:OFFSET, as `dlq list` shows")
    show.add_argument("--json", action="store_true")
    replay = actions.add_parser("replay", help="re-publish letters' original bytes to their topic")
    filters(replay)
    replay.add_argument("--dry-run", action="store_true", help="say what would be re-published")

    checksum = add("checksum", cmd_checksum, "row count and digest per table of a read model")
    checksum.add_argument("--schema", default=None, metavar="NAME", help="default: the live one")
    checksum.add_argument("--json", action="store_true")
