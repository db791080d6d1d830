"""Bringing a partition's store up to date from its changelog: the shared routine.

It moved to streams/runtime/restore.py when the media process started keeping its
``media_jobs`` table the same way; the decider's stores satisfy its ``Restorable``.
"""

from __future__ import annotations

from streams.runtime.restore import BATCH_RECORDS, restore

__all__ = ["BATCH_RECORDS", "restore"]
