"""structlog set-up: one readable stream on a terminal, JSON lines otherwise.

The libraries (aiokafka, asyncio, aiohttp's access log) log through the
standard library; their records go through structlog's ProcessorFormatter and the
same renderer, so in JSON mode every line on stderr is one JSON object, theirs
included. Python warnings and uncaught exceptions go the same way.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType

import structlog

_json_mode = False

# Processors shared by structlog's own events and the stdlib records.
_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(fmt: str = "console", level: str = "info") -> None:
    global _json_mode
    _json_mode = fmt == "json"
    numeric = logging.getLevelName(level.upper())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if _json_mode
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    # Replaces whatever was there (a second call, basicConfig of a library), so no
    # record is written twice or in a second format.
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(max(numeric, logging.INFO))
    logging.captureWarnings(True)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    if _json_mode:
        sys.excepthook = _log_uncaught


def json_mode() -> bool:
    return _json_mode


def report_error(message: str, **context: object) -> None:
    """The CLI's one-line error: plain text, or one JSON log line in JSON mode."""
    if _json_mode:
        structlog.get_logger("wavestack").error(message, **context)
    else:
        print(f"wavestack: {message}", file=sys.stderr)


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    logging.getLogger("wavestack").critical("uncaught exception", exc_info=(kind, exc, tb))
