"""A first look at an upload's first bytes: refuse what is plainly not a media file.

The worker's probe (ffprobe with a demuxer whitelist) remains the judge of what a file
is; this only answers the obvious cases at once, before a client sends gigabytes: a
text playlist or concat list (whatever its name), or bytes no container we read
starts with.
"""

from __future__ import annotations

HEAD_BYTES = 64

# Lists that make ffmpeg open other files or URLs: never a source.
_PLAYLISTS = ((b"#EXTM3U", "an HLS playlist"), (b"ffconcat", "an ffconcat list"))


def _is_media(head: bytes) -> bool:
    riff = head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"WAVE", b"WEBP")
    mpeg_audio = len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0  # mp3/aac
    return (
        head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")  # ISO BMFF / mov
        or head.startswith(b"\x1a\x45\xdf\xa3")  # Matroska / WebM (EBML)
        or head.startswith(b"\x47")  # MPEG-TS sync byte
        or head.startswith((b"FLV", b"OggS", b"fLaC", b"ID3"))
        or head.startswith(b"\x89PNG\r\n\x1a\n")
        or head.startswith(b"\xff\xd8\xff")  # JPEG
        or riff
        or mpeg_audio
    )


def refusal(head: bytes) -> str | None:
    """Why a file starting with ``head`` cannot be a media file, or None."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, what in _PLAYLISTS:
        if text.startswith(magic):
            return f"the file is {what}, not a media file (playlists are never accepted)"
    if len(head) >= 12 and not _is_media(head):
        return "the file does not start like any audio, video or image container we read"
    return None
