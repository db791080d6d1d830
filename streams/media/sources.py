"""Probes of source files this process has already read, kept while each file is unchanged.

A clip checks its source's sha256 against the one registered; hashing a 1 GB source
again for every clip of it costs a second or more. The prober (at registration) and
every clip remember the probe, with its digest, under the file's identity: device,
inode, size, and modification and change times in nanoseconds. Any write to the file
changes its change time (which no one can set back), a replacement changes its inode,
so a file whose identity still matches holds the bytes that were hashed.
"""

from __future__ import annotations

import asyncio
import stat
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from clipper import ClipLimits, Probe, probe

Identity = tuple[int, int, int, int, int]
CAPACITY = 512


def identity(path: Path) -> Identity | None:
    """None for anything but a regular file: clipper.probe says what is wrong with it."""
    try:
        st = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class KnownSources:
    """Shared by the prober and the clips of one media process (one event loop)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._known: OrderedDict[Path, tuple[Identity, Probe]] = OrderedDict()

    async def probe(self, path: Path, limits: ClipLimits, *, label: str) -> Probe:
        """``clipper.probe(path, limits, label=label)`` with its sha256, from memory when
        the file is the one probed before. Refusals are never remembered."""
        before = await asyncio.to_thread(identity, path)
        known = self._known.get(path)
        if before is not None and known is not None and known[0] == before:
            self._known.move_to_end(path)
            return replace(known[1], path=path)
        found = await probe(path, limits, label=label)
        # Remembered only if nothing touched the file while it was read and hashed.
        if before is not None and before == await asyncio.to_thread(identity, path):
            self._known[path] = (before, found)
            self._known.move_to_end(path)
            while len(self._known) > self._capacity:
                self._known.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._known)
