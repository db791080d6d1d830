"""A finished cut checked from ffmpeg's own final report, and a stream copy described
without probing it again. Pure functions.

ffmpeg writes its last ``-progress`` block after the muxer's trailer, so the block says
what the finished file is: its size, the video frames in it, how long it runs. A fast
clip copies the source's streams unchanged, so the source's probe (which we have)
describes them; a second ffprobe of the output would only repeat it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from clipper.errors import FfmpegError
from clipper.paths import ffmpeg_url
from clipper.plan import ClipPlan
from clipper.probe import Probe
from clipper.progress import ProgressTracker
from schemas.commands import ClipFormat

# What ffprobe calls the file each muxer writes (formats.MUXERS), as a probe would.
DEMUXER_OF: dict[ClipFormat, str] = {
    "mp4": "mov,mp4,m4a,3gp,3g2,mj2",
    "mov": "mov,mp4,m4a,3gp,3g2,mj2",
    "mkv": "matroska,webm",
    "webm": "matroska,webm",
}


def check_report(report: ProgressTracker, size_on_disk: int, source: Probe) -> None:
    """Refuses a cut whose file is not the complete one ffmpeg reported writing.

    Exit status 0 alone does not prove it: the report must be the final one (written
    after the trailer), its byte count must be the file's (a file cut short or
    replaced after ffmpeg closed it has another size), and a video source must have
    given video frames.
    """
    if not report.ended:
        raise FfmpegError("ffmpeg stopped without finishing the clip")
    if report.bytes_written <= 0 or report.out_time_us <= 0:
        raise FfmpegError("ffmpeg produced an empty clip")
    if size_on_disk != report.bytes_written:
        raise FfmpegError(
            f"the clip on disk has {size_on_disk} bytes, but ffmpeg wrote "
            f"{report.bytes_written}: it was cut short or changed"
        )
    if source.video is not None and report.frames <= 0:
        raise FfmpegError("ffmpeg produced a clip without the expected streams")


def copied_output(
    source: Probe, fmt: ClipFormat, plan: ClipPlan, report: ProgressTracker, path: Path
) -> Probe:
    """The probe of a stream copy of ``source``: its first video and audio streams,
    renumbered in the order they were mapped, in the ``fmt`` container.

    The duration is ``copy_duration``: give the plan with the real start keyframe.
    """
    mapped = (stream for stream in (source.video, source.audio) if stream is not None)
    streams = tuple(replace(stream, index=i) for i, stream in enumerate(mapped))
    duration = copy_duration(report, plan)
    return Probe(
        path=path,
        format_name=DEMUXER_OF[fmt],
        size=report.bytes_written,
        sha256=None,
        duration=duration,
        start_time=0.0,
        streams=streams,
    )


def copy_duration(report: ProgressTracker, plan: ClipPlan) -> float:
    """How long a stream copy runs, by ffmpeg's count: its timeline counts from the
    input seek, and the copy begins earlier, at the keyframe ``plan.actual_start``."""
    return report.out_time_us / 1_000_000 + max(0.0, plan.input_seek - plan.actual_start)


def check_streams(out: Probe, source: Probe) -> None:
    """The output has a duration, and a picture when the source has one."""
    if out.duration is None or (source.video is not None and out.video is None):
        raise FfmpegError("ffmpeg produced a clip without the expected streams")


def lineage_args(argv: tuple[str, ...], source: Path, output: Path) -> list[str]:
    """The command line with this machine's paths replaced by placeholders."""
    swap = {ffmpeg_url(source): "{source}", ffmpeg_url(output): "{output}"}
    return ["ffmpeg", *(swap.get(arg, arg) for arg in argv[1:])]
