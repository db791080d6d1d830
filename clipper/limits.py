"""The bounds every ffmpeg/ffprobe run works within, passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol


class ClipSettings(Protocol):
    """The part of the process settings the clipper reads (wavestack.settings.Settings)."""

    @property
    def clip_concurrency(self) -> int: ...
    @property
    def clip_timeout_seconds(self) -> float: ...
    @property
    def clip_max_output_bytes(self) -> int: ...
    @property
    def clip_max_source_bytes(self) -> int: ...
    @property
    def clip_max_width(self) -> int: ...
    @property
    def clip_max_height(self) -> int: ...


@dataclass(frozen=True)
class ClipLimits:
    concurrency: int = 2
    # Wall clock for a whole clip job (seek planning, ffmpeg, verification, thumbnail),
    # counted from when the job gets a slot, not from when it was queued.
    timeout_seconds: float = 600.0
    max_output_bytes: int = 2 * 1024**3
    max_source_bytes: int = 20 * 1024**3
    max_width: int = 7680
    max_height: int = 4320
    # ffprobe only reads headers and a few packets; a probe that takes longer than this
    # is stuck on something hostile or broken.
    probe_timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        bad = [f.name for f in fields(self) if getattr(self, f.name) <= 0]
        if bad:
            raise ValueError(f"clip limits must be positive: {', '.join(bad)}")

    @classmethod
    def from_settings(cls, settings: ClipSettings) -> ClipLimits:
        return cls(
            concurrency=settings.clip_concurrency,
            timeout_seconds=settings.clip_timeout_seconds,
            max_output_bytes=settings.clip_max_output_bytes,
            max_source_bytes=settings.clip_max_source_bytes,
            max_width=settings.clip_max_width,
            max_height=settings.clip_max_height,
        )
