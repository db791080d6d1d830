"""What the decider keeps per aggregate id in its table (JSON, via the changelog)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import Outcome

# Decisions whose envelopes are kept, so a redelivery is answered byte for byte...
RECENT_DECISIONS = 32
# ...within this many bytes of envelopes: the whole record travels as one changelog
# message, which Kafka caps at about 1 MB.
ENVELOPE_BUDGET_BYTES = 512 * 1024
# Decisions remembered at all (fingerprint and outcome). Older ones can only come back
# through a client retry long after the fact, and commands without an idempotency key
# get fresh ids; the creating command is never forgotten.
KEPT_DECISIONS = 512


class StoredDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str
    outcome: Outcome
    # The produced envelopes as JSON text (events, then the outcome); None once trimmed.
    envelopes: list[str] | None = None


class AggregateRecord(BaseModel):
    """The folded state of one aggregate plus the decisions taken on it.

    A record without ``aggregate_type`` holds only decisions about an aggregate that
    does not exist (e.g. a cancel of an unknown id), so their redelivery answers the same.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    aggregate_type: str | None = None
    org_id: str | None = None
    sequence: int = Field(default=0, ge=0)
    state: dict[str, Any] | None = None
    creator: str | None = None
    # Insertion-ordered (oldest first): JSON objects keep their order through the changelog.
    decisions: dict[str, StoredDecision] = Field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.aggregate_type is not None

    def remember(
        self, command_id: str, decision: StoredDecision, creator: str | None = None
    ) -> dict[str, StoredDecision]:
        """The decisions with this one appended, older ones trimmed to the bounds above
        (``creator``: the record's creator once this decision is taken, if it changes)."""
        keep = creator if creator is not None else self.creator
        decisions = {**self.decisions, command_id: decision}
        ids = list(decisions)
        budget = ENVELOPE_BUDGET_BYTES
        for rank, old in enumerate(reversed(ids)):
            envelopes = decisions[old].envelopes
            if envelopes is None:
                continue
            budget -= sum(len(e) for e in envelopes)
            if rank >= RECENT_DECISIONS or budget < 0:
                decisions[old] = decisions[old].model_copy(update={"envelopes": None})
        excess = len(ids) - KEPT_DECISIONS
        for old in ids:
            if excess <= 0:
                break
            if old != keep:
                del decisions[old]
                excess -= 1
        return decisions


def load_record(value: bytes | None) -> AggregateRecord | None:
    return None if value is None else AggregateRecord.model_validate_json(value)


def dump_record(record: AggregateRecord) -> bytes:
    return record.model_dump_json().encode()
