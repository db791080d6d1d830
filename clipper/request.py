"""A clip request as the clipper sees it, checked on its own and against a probed source."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import get_args

from clipper.errors import InvalidClipRequestError, RangeError, UnsupportedMediaError
from clipper.formats import COPY_CODECS
from clipper.probe import Probe
from schemas.commands import MAX_CLIP_SECONDS, ClipAspect, ClipFormat, ClipMode, RequestClip

# Float noise (a duration computed as end - start) must not refuse "up to the very end".
RANGE_TOLERANCE = 0.001


@dataclass(frozen=True)
class ClipSpec:
    """What to cut: ``start`` and ``duration`` in seconds from the source's beginning.

    Construction checks what needs no file (the API answers 422 with it at once);
    ``check_against`` checks what needs the probed source (a ``ClipFailed`` reason).
    """

    start: float
    duration: float
    format: ClipFormat = "mp4"
    mode: ClipMode = "fast"
    aspect: ClipAspect = "source"

    def __post_init__(self) -> None:
        if not math.isfinite(self.start) or self.start < 0:
            raise RangeError("start must be a number of seconds >= 0", field="start")
        if not math.isfinite(self.duration) or not 0 < self.duration <= MAX_CLIP_SECONDS:
            raise RangeError(
                f"duration must be more than 0 and at most {MAX_CLIP_SECONDS:.0f} s",
                field="duration",
            )
        for name, allowed in (
            ("format", get_args(ClipFormat)),
            ("mode", get_args(ClipMode)),
            ("aspect", get_args(ClipAspect)),
        ):
            if getattr(self, name) not in allowed:
                raise InvalidClipRequestError(
                    f"{name} must be one of {', '.join(allowed)}", field=name
                )
        if self.mode == "fast" and self.aspect != "source":
            # Reframing needs a re-encode, and fast mode promises none. Refused rather
            # than silently upgraded, so the lineage always says what was done.
            raise InvalidClipRequestError(
                f"aspect {self.aspect} needs mode=accurate: fast mode copies the streams "
                "without re-encoding and cannot crop",
                field="aspect",
            )

    @classmethod
    def from_command(cls, command: RequestClip) -> ClipSpec:
        return cls(
            start=command.start,
            duration=command.length,
            format=command.format,
            mode=command.mode,
            aspect=command.aspect,
        )

    @property
    def end(self) -> float:
        return self.start + self.duration

    def check_against(self, source: Probe) -> None:
        """Refuse a request the probed source cannot satisfy, saying what would work."""
        if source.kind == "image" or source.duration is None:
            raise UnsupportedMediaError(
                "the source has no duration: only video and audio files can be clipped",
                field="source",
            )
        length = source.duration
        if self.start >= length:
            raise RangeError(
                f"start {self.start:.3f} s is not before the end of the source "
                f"({length:.3f} s long)",
                field="start",
            )
        if self.end > length + RANGE_TOLERANCE:
            raise RangeError(
                f"the range {self.start:.3f}-{self.end:.3f} s ends after the source "
                f"({length:.3f} s long); from {self.start:.3f} s at most "
                f"{length - self.start:.3f} s can be cut",
                field="duration",
            )
        if self.aspect != "source" and source.video is None:
            raise InvalidClipRequestError(
                f"aspect {self.aspect} needs a video stream; the source is audio only",
                field="aspect",
            )
        if self.mode == "fast":
            self._check_copy(source)

    def _check_copy(self, source: Probe) -> None:
        allowed = COPY_CODECS[self.format]
        if allowed is None:
            return
        video_codecs, audio_codecs = allowed
        refused = [
            s.codec_name
            for s, codecs in ((source.video, video_codecs), (source.audio, audio_codecs))
            if s is not None and s.codec_name not in codecs
        ]
        if refused:
            raise InvalidClipRequestError(
                f"fast mode copies the streams as they are, and a {self.format} file cannot "
                f"hold {'/'.join(refused)}; use mode=accurate or format mkv",
                field="format",
            )
