"""What can go wrong with a clip or a media file, each with a stable code and a clear message."""

from __future__ import annotations


class MediaError(Exception):
    """Base of every clipper error.

    ``code`` is stable (clients and events carry it); ``message`` says what was wrong
    and what to do instead, and never contains a path of this machine. ``field`` names
    the request field at fault, when there is one, for problem+json ``errors[].loc``.
    ``user_fault`` tells the caller whether the request or its media is to blame (answer
    422 / ``ClipFailed``) or the machine is (log it, maybe retry later).
    """

    code = "media_error"
    user_fault = True

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class UnsafePathError(MediaError):
    """The path is not a plain relative path inside the media root."""

    code = "unsafe_path"


class MediaNotFoundError(MediaError):
    code = "media_not_found"


class EmptyMediaError(MediaError):
    code = "empty_media"


class UnsupportedMediaError(MediaError):
    """Not a plain audio/video/image file that we agree to read."""

    code = "unsupported_media"


class PlaylistRefusedError(UnsupportedMediaError):
    """HLS/DASH playlists and concat lists: they make ffmpeg open other files."""

    code = "playlist_refused"


class InvalidClipRequestError(MediaError):
    """The request cannot be done as asked (e.g. reframing in stream-copy mode)."""

    code = "invalid_clip_request"


class RangeError(InvalidClipRequestError):
    """The asked range does not lie inside the source."""

    code = "range_outside_source"


class LimitExceededError(MediaError):
    """A configured limit (source size, resolution, output size) was exceeded."""

    code = "limit_exceeded"


class ClipTimeoutError(MediaError):
    code = "timeout"


class FfmpegError(MediaError):
    """ffmpeg or ffprobe failed on input we had already accepted."""

    code = "ffmpeg_failed"
    user_fault = False


class ToolMissingError(MediaError):
    """ffmpeg/ffprobe is not installed or not runnable: an operator problem."""

    code = "tool_missing"
    user_fault = False
