"""Base classes of every command and event payload: frozen, strict, versioned."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A payload carried in an envelope's ``data``.

    Subclasses set ``TYPE`` (``<aggregate_type>.<Name>``), ``VERSION`` and
    ``AGGREGATE_TYPE``. A change to a published version's JSON Schema that is not
    backwards compatible needs a new VERSION and an upcaster (schemas/upcasting.py).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    AGGREGATE_TYPE: ClassVar[str]


class Command(Message):
    """An imperative request (``EnqueueItem``); may be rejected."""


class Event(Message):
    """A past-tense fact (``ItemEnqueued``); never rejected, never changed."""
