"""The `wavestack` command: runs the processes and the operator's tools."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from probes.server import serve as serve_probes
from wavestack import runtime
from wavestack.errors import UserError
from wavestack.logging import configure_logging, report_error
from wavestack.operator import commands as operator_commands
from wavestack.settings import Settings

if TYPE_CHECKING:
    from streams.worker import Role

Handler = Callable[[Settings, argparse.Namespace], int]


def run_async(coro: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coro)


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    from api.main import run

    processes = args.processes or settings.api_processes
    if processes == 1:
        run(settings)
        return 0
    from api.sharedlimit import create_table
    from wavestack.multiproc import supervise

    # The parent owns the shared rate-limit table: created before any child, removed
    # after the last one stopped.
    table = create_table()
    try:
        return supervise(processes, _api_child, (settings, str(table)), name="api")
    finally:
        table.unlink(missing_ok=True)


def _api_child(settings: Settings, table: str) -> None:
    """One of several API processes (spawned: it sets up its own logging)."""
    from pathlib import Path

    from api.main import run
    from api.sharedlimit import SharedRateLimiter

    configure_logging(settings.log_format, settings.log_level)
    limiter = SharedRateLimiter(
        Path(table), settings.rate_limit_per_second, settings.rate_limit_burst
    )
    try:
        run(settings, limiter=limiter, reuse_port=True)
    finally:
        limiter.close()


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    if args.role == "all":
        # Two processes, two consumer groups (docs/architecture.md, "Streams").
        from wavestack.multiproc import ChildSpec, Supervisor

        roles = ("decider", "media")
        return Supervisor([ChildSpec(r, _worker_child, (settings, r)) for r in roles]).run()
    if args.role == "publisher":
        return cmd_publisher(settings, args)
    if args.role == "integrations":
        return cmd_integrations(settings)
    if args.role == "webhooks":
        return cmd_webhooks(settings)
    _run_worker(settings, args.role)
    return 0


def _worker_child(settings: Settings, role: str) -> None:
    """One role of `wavestack worker` (spawned: it sets up its own logging)."""
    configure_logging(settings.log_format, settings.log_level)
    _run_worker(settings, role)


def _run_worker(settings: Settings, role: Any) -> None:
    if settings.worker_metrics_port is not None:
        # The media process serves on the next port, so both roles fit on one host.
        # /metrics, /healthz, /readyz (probes/): up before the imports below, so a probe
        # meanwhile hears "starting" rather than nothing.
        port = settings.worker_metrics_port + (1 if role == "media" else 0)
        serve_probes(port, settings.api_host)
    from streams.worker import main

    main(settings, role)


def cmd_publisher(settings: Settings, args: argparse.Namespace) -> int:
    return _run_keyed_role(settings, "publisher")


def cmd_webhooks(settings: Settings) -> int:
    """The outbound webhook delivery process (`wavestack worker --role webhooks`)."""
    return _run_keyed_role(settings, "webhooks")


def cmd_integrations(settings: Settings) -> int:
    """Discord follow-ups of inbound bots (`wavestack worker --role integrations`)."""
    return _run_keyed_role(settings, "integrations")


# Metrics ports after the decider's (+0) and the media process's (+1).
KEYED_ROLE_PORTS: dict[Role, int] = {"publisher": 2, "webhooks": 3, "integrations": 4}


def _run_keyed_role(settings: Settings, role: Role) -> int:
    """A process that opens secrets with the key ring: without one it says so and stops."""
    if settings.worker_metrics_port is not None:
        port = settings.worker_metrics_port + KEYED_ROLE_PORTS[role]
        serve_probes(port, settings.api_host)
    from streams.worker import main
    from vault.keyring import MissingKeyRing

    try:
        main(settings, role)
    except MissingKeyRing as exc:
        raise UserError(str(exc)) from None
    return 0


def cmd_projector(settings: Settings, args: argparse.Namespace) -> int:
    if settings.projector_metrics_port is not None:
        from projections.health_gauges import start_in_thread

        serve_probes(settings.projector_metrics_port, settings.api_host)
        start_in_thread(settings)  # the status figures as gauges (docs/operations.md)
    from projections.projector import main

    main(settings)
    return 0


def cmd_dev(settings: Settings, args: argparse.Namespace) -> int:
    from wavestack.dev import run_dev

    return run_dev(settings)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from wavestack.ops import migrate_read_model
    from wavestack.secrets import create_key_table

    code = run_async(migrate_read_model(settings))
    return code or run_async(create_key_table(settings))


def cmd_topics(settings: Settings, args: argparse.Namespace) -> int:
    from wavestack.ops import create_topics

    return run_async(create_topics(settings))


def cmd_catalog(settings: Settings, args: argparse.Namespace) -> int:
    from schemas.catalog_doc import render_catalog

    sys.stdout.write(render_catalog())
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from api.auth.cli import issue_token_from_settings

    print(
        issue_token_from_settings(
            settings, org=args.org, sub=args.sub, scope=args.scope, ttl=args.ttl, kind=args.kind
        )
    )
    return 0


def cmd_keys_rotate(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "rotate-secrets":
        from wavestack.secrets import rotate_secrets

        return run_async(rotate_secrets(settings))
    from api.auth.cli import rotate_keys_from_settings

    print(rotate_keys_from_settings(settings))
    return 0


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from wavestack.ops import replay

    return run_async(replay(settings, args.projection, args.from_beginning, args.from_time))


def cmd_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from wavestack.ops import rebuild

    if args.until_time is not None or args.schema is not None:
        from wavestack.operator.asof import rebuild_as_of

        if args.until_time is None or args.schema is None or args.keep_old:
            raise UserError("a point-in-time rebuild takes --until-time T and --schema NAME only")
        return run_async(rebuild_as_of(settings, args.schema, args.until_time))
    return run_async(rebuild(settings, keep_old=args.keep_old))


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from wavestack.ops import audit

    return run_async(audit(settings, args.org, args.aggregate, args.json))


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from wavestack.ops import doctor

    return run_async(doctor(settings, args.older_than, args.redrive))


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time with its UTC offset, e.g. ...+00:00")
    return parsed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wavestack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    api = add("api", cmd_api, "serve the HTTP API")
    api.add_argument(
        "--processes",
        type=int,
        choices=range(1, 65),
        default=None,
        metavar="N",
        help="processes sharing the port (SO_REUSEPORT); default WAVESTACK_API_PROCESSES or 1",
    )
    worker = add("worker", cmd_worker, "run the streams worker: the decider and the media process")
    worker.add_argument(
        "--role",
        choices=["all", "decider", "media", "publisher", "integrations", "webhooks"],
        default="all",
        help="all (default): decider and media, as two processes; or one role",
    )
    add("publisher", cmd_publisher, "run the publisher: the scheduler and the platform calls")
    add("projector", cmd_projector, "run the read-model projector")
    add("dev", cmd_dev, "run API, worker and projector together, with a demo token")
    add("migrate", cmd_migrate, "create or update the read-model schema")
    add("topics", cmd_topics, "create the Kafka topics")
    add("catalog", cmd_catalog, "print the event catalog (docs/event-catalog.md)")

    token = add("token", cmd_token, "print a JWT signed with the active local key")
    token.add_argument("--org", required=True)
    token.add_argument("--sub", required=True)
    token.add_argument("--scope", default="read", help='space-delimited, e.g. "queue:write read"')
    token.add_argument("--ttl", type=int, default=3600, help="seconds (default 3600)")
    token.add_argument("--kind", choices=["user", "bot", "service"], default="user")

    keys = add("keys", cmd_keys_rotate, "manage the local signing keys and the secret key ring")
    keys.add_argument(
        "action",
        choices=["rotate", "rotate-secrets"],
        help="rotate: a new signing key; rotate-secrets: re-wrap every connection's data key "
        "with the first key of WAVESTACK_SECRET_KEY",
    )

    replay = add("replay", cmd_replay, "re-run a projection over the log")
    replay.add_argument("--projection", required=True)
    start = replay.add_mutually_exclusive_group(required=True)
    start.add_argument("--from-beginning", action="store_true")
    start.add_argument("--from-time", type=_time, metavar="T")

    rebuild = add("rebuild", cmd_rebuild, "build a fresh read model beside the live one, then swap")
    rebuild.add_argument("--keep-old", action="store_true", help="keep the replaced schema")
    rebuild.add_argument(
        "--until-time",
        type=_time,
        default=None,
        metavar="T",
        help="with --schema: the log up to T into a new schema, never swapped in",
    )
    rebuild.add_argument(
        "--schema", default=None, metavar="NAME", help="the point-in-time model's schema (new)"
    )

    audit = add("audit", cmd_audit, "print the event history of an organization")
    audit.add_argument("--org", required=True)
    audit.add_argument("--aggregate", default=None, metavar="ID")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")

    doctor = add("doctor", cmd_doctor, "find commands without an outcome (and re-drive them)")
    doctor.add_argument(
        "--older-than", type=float, default=300.0, metavar="SECONDS", help="default 300"
    )
    doctor.add_argument("--redrive", action="store_true")

    # status, dlq list|show|replay, checksum (wavestack/operator/commands.py)
    operator_commands.register(add, _time)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"wavestack: invalid settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    runtime.prepare()
    try:
        handler: Handler = args.handler
        return handler(settings, args)
    except UserError as exc:
        report_error(str(exc))
        return 2
    except (OSError, KafkaError, asyncpg.PostgresError, LookupError) as exc:
        # Services that are down or refuse us (or a topic is missing): say which,
        # without a traceback.
        report_error(f"{type(exc).__name__}: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
