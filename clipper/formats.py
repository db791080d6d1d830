"""Which containers we read and write, and what each output format holds without re-encoding."""

from __future__ import annotations

from typing import Final

from schemas.commands import ClipFormat

# ffprobe's format_name of every demuxer we read: plain containers of one file.
# Everything else - hls, dash, concat, image sequences, tty, lavfi, ... - is refused by
# ffmpeg itself (-format_whitelist) before it reads a byte beyond the file's header.
AV_DEMUXERS: Final = (
    "mov,mp4,m4a,3gp,3g2,mj2",
    "matroska,webm",
    "avi",
    "mpegts",
    "flv",
    "ogg",
    "wav",
    "mp3",
    "aac",
    "flac",
)
# Still images (assets of kind "image"). ffprobe only, with -pattern_type none so that
# image2 never reads a name as a numbered sequence.
IMAGE_DEMUXERS: Final = ("png_pipe", "jpeg_pipe", "webp_pipe", "image2")
# Demuxers that open other files or URLs; named in the error so users know why.
PLAYLIST_DEMUXERS: Final = frozenset({"hls", "dash", "concat", "applehttp", "webm_dash_manifest"})
# ffmpeg moves a -ss seek 3/23 s earlier when the demuxer seeks by dts and a stream has
# B-frames (fftools' "dts heuristic"); only these demuxers seek by pts.
SEEK_TO_PTS_DEMUXERS: Final = frozenset({"mov,mp4,m4a,3gp,3g2,mj2"})
DTS_HEURISTIC_US: Final = 3 * 1_000_000 // 23

MUXERS: Final[dict[ClipFormat, str]] = {
    "mp4": "mp4",
    "mov": "mov",
    "webm": "webm",
    "mkv": "matroska",
}
# Codecs each output container accepts as a plain stream copy (fast mode). None: any.
COPY_CODECS: Final[dict[ClipFormat, tuple[frozenset[str], frozenset[str]] | None]] = {
    "mp4": (
        frozenset({"h264", "hevc", "av1", "vp9", "mpeg4"}),
        frozenset({"aac", "mp3", "opus", "ac3", "eac3", "alac"}),
    ),
    "mov": (
        frozenset({"h264", "hevc", "mpeg4", "prores", "mjpeg"}),
        frozenset({"aac", "mp3", "alac", "ac3", "pcm_s16le", "pcm_s16be", "pcm_s24le"}),
    ),
    "webm": (frozenset({"vp8", "vp9", "av1"}), frozenset({"vorbis", "opus"})),
    "mkv": None,
}
# Re-encoding (accurate mode). Fast presets: a clip is short and the source is the
# master copy; quality settings are visually transparent for social platforms.
VIDEO_ENCODERS: Final[dict[ClipFormat, tuple[str, ...]]] = {
    "mp4": ("-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"),
    "mov": ("-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"),
    "mkv": ("-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"),
    "webm": (
        "-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0", "-deadline", "realtime",
        "-cpu-used", "8", "-row-mt", "1", "-pix_fmt", "yuv420p",
    ),
}  # fmt: skip
AUDIO_ENCODERS: Final[dict[ClipFormat, tuple[str, ...]]] = {
    "mp4": ("-c:a", "aac", "-b:a", "160k"),
    "mov": ("-c:a", "aac", "-b:a", "160k"),
    "mkv": ("-c:a", "aac", "-b:a", "160k"),
    "webm": ("-c:a", "libopus", "-b:a", "128k"),
}
FASTSTART_FORMATS: Final = frozenset({"mp4", "mov"})


def whitelist(names: tuple[str, ...]) -> str:
    return ",".join(names)
