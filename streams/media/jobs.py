"""The media agent's memory per aggregate (asset or clip): attempts made, and whether done.

Kept in the Faust table ``media_jobs``, keyed by aggregate id like the events, so
the table is co-partitioned with the stream that writes it. It only saves work:
the decider answers a repeated agent command once whatever this table says.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Job(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    attempt: int = Field(default=0, ge=0)
    done: bool = False


class Jobs:
    """Typed access to the table (values: a Job's JSON, as bytes)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, key: str) -> Job:
        value = self.table.get(key)
        return Job() if value is None else Job.model_validate_json(value)

    def put(self, key: str, job: Job) -> None:
        # Only inside the agent's stream: faust writes the changelog partition of the
        # event being processed.
        self.table[key] = job.model_dump_json().encode()
