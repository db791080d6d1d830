"""One partition of a table on local disk: RocksDB, raw bytes, with the changelog offset it reaches.

The changelog topic is the durable copy (streams/runtime/restore.py reads it back);
the local store only saves re-reading it after a restart on the same disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rocksdict import Options, Rdict, WriteBatch

# Kept in the store itself, so it is written in the same batch as the values it covers.
OFFSET_KEY = b"\x00changelog-offset"


class KeyValueStore:
    """str keys, bytes values; every write goes in one batch with the offset it reaches."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        self._db = Rdict(str(path), options)
        self.path = path

    def get(self, key: str) -> bytes | None:
        value = self._db.get(key.encode())
        return None if value is None else bytes(value)

    def items(self) -> Iterator[tuple[str, bytes]]:
        """Every key and value (not the offset): a process rebuilding an index on assignment."""
        for key, value in self._db.items():
            if isinstance(key, bytes) and key != OFFSET_KEY:  # raw mode: always bytes
                yield key.decode(), bytes(value)

    def offset(self) -> int:
        """The last changelog offset applied (-1: nothing yet)."""
        raw = self._db.get(OFFSET_KEY)
        return -1 if raw is None else int(raw)

    def write(self, values: dict[str, bytes], changelog_offset: int | None) -> None:
        batch = WriteBatch(raw_mode=True)
        for key, value in values.items():
            batch.put(key.encode(), value)
        if changelog_offset is not None:
            batch.put(OFFSET_KEY, str(changelog_offset).encode())
        self._db.write(batch)

    def close(self) -> None:
        self._db.close()
