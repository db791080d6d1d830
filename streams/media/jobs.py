"""The media handlers' memory per aggregate (asset or clip): attempts made, and whether done.

Kept in the table ``media_jobs`` (streams/runtime/table.py), one partition per
events partition, keyed by aggregate id like the events: the partition of the event
being handled holds its job. Its changelog topic and format are the ones the Faust
app wrote, so attempt counts survive the move off Faust. It saves work (a done job
is not redone) and keeps attempt numbers rising across crashes, so ``StartClip(n)``
after a crash is a new attempt the decider records, not a duplicate.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

TABLE = "media_jobs"


class Job(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    attempt: int = Field(default=0, ge=0)
    done: bool = False
    # Attempts stopped on purpose (shutdown, a partition moving away) and recorded as
    # such. The others that did not finish took the process down with them.
    cancelled: int = Field(default=0, ge=0)

    @property
    def crashed(self) -> int:
        """Attempts that neither finished nor were cancelled cleanly: each one ended in a
        crash of the process (or a SIGKILL) while it ran."""
        return self.attempt - self.cancelled - (1 if self.done else 0)


class JobTable(Protocol):
    """One partition of the table (streams.runtime.table.PartitionTable)."""

    def get(self, key: str) -> bytes | None: ...
    async def put(self, key: str, value: bytes, bound: Any) -> None: ...


class Jobs:
    """Typed access to one partition of the table (values: a Job's JSON, as bytes)."""

    def __init__(self, table: JobTable) -> None:
        self.table = table

    def get(self, key: str) -> Job:
        value = self.table.get(key)
        return Job() if value is None else Job.model_validate_json(value)

    async def put(self, key: str, job: Job, bound: Any) -> None:
        """Returns once the job is on the changelog: a crash after it still counts."""
        await self.table.put(key, job.model_dump_json().encode(), bound)
