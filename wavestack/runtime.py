"""How every WaveStack process runs: on uvloop, with a garbage collector tuned for it.

The CLI calls ``prepare()`` once, before any event loop exists, so ``asyncio.run``
and aiohttp's ``run_app`` get uvloop, and every command (the API, the decider, the
projector, a rebuild) runs with the same collector settings.
"""

from __future__ import annotations

import asyncio
import gc

# The hot paths (deciding, projecting, answering) allocate many short-lived objects
# and keep large long-lived caches (the decider's parsed records, the API's recent
# commands). With CPython's defaults (700, 10, 10) the collector runs every few
# hundred allocations and regularly walks every long-lived object: a quarter of the
# decider's CPU in a profile (docs/performance.md). Our objects rarely form cycles,
# so collecting less often costs little memory.
#
# The middle threshold bounds the longest pause. A generation-1 collection walks
# everything that survived the young collections since the last one, and the
# decider's cache of parsed records is most of that: at 50, one walked half a million
# commands' records and stopped the decider for 1.4-2.4 s. At 5 the longest took
# 221 ms, for the same total time in the collector (docs/performance.md).
GC_THRESHOLDS = (100_000, 5, 100)


def prepare() -> str:
    """Installs uvloop and tunes the collector; returns the loop's name."""
    gc.set_threshold(*GC_THRESHOLDS)
    # Everything imported so far lives as long as the process: out of every collection.
    gc.freeze()
    return _install_uvloop()


def _install_uvloop() -> str:
    """The API and the workers spend much of their time in the event loop itself and in
    socket transports (aiohttp, aiokafka, asyncpg); uvloop does that work in C. Where it
    cannot be imported, the standard loop runs, with the same behaviour, only slower."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; this is the fallback
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"
