"""The attempts' result commands share one produce per round, and one opening of a row.

No Kafka here: the round's produce is a recording function (producing itself is
tested against Kafka in tests/integration/streams/test_record_batches.py and, through
the tables' flush, tests/integration/publishing/test_publisher_state.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from streams.publishing.connections import _Read
from streams.runtime.app import MAX_REQUEST_BYTES
from streams.runtime.sending import Outgoing, SendRefused, SharedProduce
from vault import keytable
from vault.keyring import KeyRing, generate_entry


def record(n: int, size: int = 10) -> Outgoing:
    return Outgoing("commands", str(n).encode(), b"x" * size)


class Rounds:
    def __init__(self, fail: Exception | None = None) -> None:
        self.batches: list[list[Outgoing]] = []
        self.fail = fail
        self.release = asyncio.Event()
        self.release.set()

    async def produce(self, batch: list[Outgoing], bound: Any) -> None:
        self.batches.append(list(batch))
        await self.release.wait()
        if self.fail is not None:
            raise self.fail


async def test_callers_arriving_together_share_one_produce_in_their_order() -> None:
    rounds = Rounds()
    shared = SharedProduce(rounds.produce)
    await asyncio.gather(*(shared([record(n)]) for n in range(5)))
    assert [[m.key for m in b] for b in rounds.batches] == [[b"0", b"1", b"2", b"3", b"4"]]


async def test_callers_arriving_during_a_round_go_in_the_next_one() -> None:
    rounds = Rounds()
    rounds.release.clear()
    shared = SharedProduce(rounds.produce)
    first = asyncio.create_task(shared([record(1)]))
    await asyncio.sleep(0)  # the round took record 1 and waits for its acks
    await asyncio.sleep(0)
    later = [asyncio.create_task(shared([record(n)])) for n in (2, 3)]
    await asyncio.sleep(0)
    assert not first.done() and len(rounds.batches) == 1
    rounds.release.set()
    await asyncio.gather(first, *later)
    assert [[m.key for m in b] for b in rounds.batches] == [[b"1"], [b"2", b"3"]]


async def test_a_record_too_large_fails_its_caller_only() -> None:
    rounds = Rounds()
    shared = SharedProduce(rounds.produce)
    results = await asyncio.gather(
        shared([record(1)]),
        shared([record(2, size=MAX_REQUEST_BYTES)]),
        return_exceptions=True,
    )
    assert results[0] is None and isinstance(results[1], SendRefused)
    assert [[m.key for m in b] for b in rounds.batches] == [[b"1"]]


async def test_a_failed_round_fails_everyone_in_it() -> None:
    rounds = Rounds(fail=SendRefused("refused"))
    shared = SharedProduce(rounds.produce)
    results = await asyncio.gather(shared([record(1)]), shared([record(2)]), return_exceptions=True)
    assert all(isinstance(r, SendRefused) for r in results)


def test_one_read_of_a_row_is_opened_once_read_only_and_never_shown() -> None:
    ring = KeyRing.parse(generate_entry("k1"))
    wrapped, sealed = keytable.seal_new(ring, "org", "c1", {"url": "https://x.test/h"})
    read = _Read(keytable.StoredConnection("c1", "org", "webhook", wrapped, sealed))
    first = read.credentials(ring)
    assert first["url"] == "https://x.test/h"
    assert read.credentials(ring) is first  # the attempts of one read share it
    with pytest.raises(TypeError):
        first["url"] = "elsewhere"  # type: ignore[index]
    assert "x.test" not in repr(read)
