"""Clips cut with ffmpeg out of media files under one media root, safely and within limits."""

from clipper.errors import (
    ClipTimeoutError,
    EmptyMediaError,
    FfmpegError,
    InvalidClipRequestError,
    LimitExceededError,
    MediaError,
    MediaNotFoundError,
    PlaylistRefusedError,
    RangeError,
    ToolMissingError,
    UnsafePathError,
    UnsupportedMediaError,
)
from clipper.limits import ClipLimits, ClipSettings
from clipper.paths import MediaRoot, ffmpeg_url, validate_relative_path
from clipper.plan import ClipPlan, plan_clip, plan_thumbnail
from clipper.probe import Probe, StreamInfo, probe, probe_from_dict
from clipper.request import ClipSpec
from clipper.result import ClipResult
from clipper.runner import ClipRunner
from clipper.store import cleanup_stale_temp_files

__all__ = [
    "ClipLimits",
    "ClipPlan",
    "ClipResult",
    "ClipRunner",
    "ClipSettings",
    "ClipSpec",
    "ClipTimeoutError",
    "EmptyMediaError",
    "FfmpegError",
    "InvalidClipRequestError",
    "LimitExceededError",
    "MediaError",
    "MediaNotFoundError",
    "MediaRoot",
    "PlaylistRefusedError",
    "Probe",
    "RangeError",
    "StreamInfo",
    "ToolMissingError",
    "UnsafePathError",
    "UnsupportedMediaError",
    "cleanup_stale_temp_files",
    "ffmpeg_url",
    "plan_clip",
    "plan_thumbnail",
    "probe",
    "probe_from_dict",
    "validate_relative_path",
]
