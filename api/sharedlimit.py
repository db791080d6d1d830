"""Per-organization token buckets shared by every API process on one machine.

With `wavestack api --processes N` the kernel spreads connections over N processes
(SO_REUSEPORT), so one organization's requests land anywhere. Each process keeping
its own buckets would admit up to N times the rate; dividing the rate by N would be
wrong whenever the spread is uneven (one client, one keep-alive connection). Instead
all processes use one table of buckets in a shared file mapping (tmpfs), updated
under an exclusive flock: the same arithmetic as RateLimiter, on one shared state.

flock rather than a semaphore: the kernel drops the lock of a process that dies
(even SIGKILLed mid-update), so a crashed child can never wedge the others. Each
process opens the file itself, because flock excludes open file descriptions, not
processes, and a descriptor inherited over fork would share one.

Layout: a 64-byte header (magic, capacity, used slots), then ``capacity`` slots of
32 bytes: a 16-byte BLAKE2b digest of the organization id (all zero: free), the
tokens left and the CLOCK_MONOTONIC time they were computed at (one clock for
every process on the machine). Open addressing with linear probing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mmap
import os
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

MAGIC = b"WSRLIM01"
HEADER = struct.Struct("<8sQQ")  # magic, capacity, used slots
HEADER_BYTES = 64
SLOT = struct.Struct("<16sdd")  # digest, tokens, updated
FREE = bytes(16)
DEFAULT_CAPACITY = 65_536  # 2 MiB; only organizations seen within burst/rate seconds use one
# Past this share of used slots, full buckets (no information) are dropped.
PRUNE_AT = 0.75


def _shm_dir() -> str | None:
    # tmpfs keeps the mapping in memory; elsewhere the page cache does the same job.
    # mkstemp makes a unique 0600 file, so a shared directory is safe here.
    return "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108


def create_table(capacity: int = DEFAULT_CAPACITY) -> Path:
    """Creates an empty bucket table and returns its path; the caller removes it."""
    fd, name = tempfile.mkstemp(prefix="wavestack-ratelimit-", dir=_shm_dir())
    try:
        os.ftruncate(fd, HEADER_BYTES + capacity * SLOT.size)
        os.pwrite(fd, HEADER.pack(MAGIC, capacity, 0), 0)
    finally:
        os.close(fd)
    return Path(name)


class SharedRateLimiter:
    """RateLimiter's contract (``take``), on a table that several processes open."""

    def __init__(
        self,
        path: Path,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._fd = os.open(path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, 0)
        magic, self._capacity, _ = HEADER.unpack_from(self._map, 0)
        if magic != MAGIC:
            raise ValueError(f"{path} is not a rate-limit table")
        # digest -> slot: a hint, checked against the slot's digest before use (slots
        # move when another process prunes the table).
        self._slots: dict[bytes, int] = {}

    def take(self, key: str) -> float:
        """Takes one token; returns 0 when allowed, else the seconds until one is available."""
        digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
        with self._locked():
            # Read inside the lock: a time read before waiting could be older than the
            # one another process just stored, and tokens would be counted twice.
            now = self._clock()
            offset = self._find(digest, now)
            if offset is None:
                # More organizations active within burst/rate seconds than slots: admit
                # rather than refuse everyone new (docs/decisions.md).
                return 0.0
            _, stored, updated = SLOT.unpack_from(self._map, offset)
            tokens: float = min(self.burst, stored + max(0.0, now - updated) * self.rate)
            if tokens >= 1.0:
                SLOT.pack_into(self._map, offset, digest, tokens - 1.0, max(now, updated))
                return 0.0
            SLOT.pack_into(self._map, offset, digest, tokens, max(now, updated))
            return (1.0 - tokens) / self.rate

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _offset(self, index: int) -> int:
        return HEADER_BYTES + index * SLOT.size

    def _find(self, digest: bytes, now: float) -> int | None:
        """The offset of ``digest``'s slot, inserting a full bucket if it has none."""
        hint = self._slots.get(digest)
        if hint is not None and self._map[hint : hint + 16] == digest:
            return hint
        offset = self._probe(digest)
        if self._map[offset : offset + 16] == digest:
            self._slots[digest] = offset
            return offset
        _, _, used = HEADER.unpack_from(self._map, 0)
        if used + 1 > self._capacity * PRUNE_AT:
            used = self._prune(now)
            if used + 1 > self._capacity * PRUNE_AT:
                return None
            offset = self._probe(digest)
        SLOT.pack_into(self._map, offset, digest, self.burst, now)
        HEADER.pack_into(self._map, 0, MAGIC, self._capacity, used + 1)
        self._slots[digest] = offset
        return offset

    def _probe(self, digest: bytes) -> int:
        """The slot holding ``digest``, or the free slot where it would go."""
        index = int.from_bytes(digest[:8], "little") % self._capacity
        while True:
            offset = self._offset(index)
            held = self._map[offset : offset + 16]
            if held in (digest, FREE):
                return offset
            index = (index + 1) % self._capacity

    def _prune(self, now: float) -> int:
        """Rebuilds the table without the buckets that have refilled; returns its size."""
        kept = []
        for index in range(self._capacity):
            digest, tokens, updated = SLOT.unpack_from(self._map, self._offset(index))
            if digest != FREE and tokens + (now - updated) * self.rate < self.burst:
                kept.append((digest, tokens, updated))
        self._map[HEADER_BYTES:] = bytes(self._capacity * SLOT.size)
        for digest, tokens, updated in kept:
            SLOT.pack_into(self._map, self._probe(digest), digest, tokens, updated)
        HEADER.pack_into(self._map, 0, MAGIC, self._capacity, len(kept))
        self._slots.clear()
        return len(kept)
