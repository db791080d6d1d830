"""Media paths in requests: the clipper's shape rules, and a file that exists under the root.

What the request alone can tell is refused here with 422 (DESIGN §10, issue 3), using
the clipper's own ``validate_relative_path`` so the API and the worker can never
disagree on the rules. What only the file's content can tell (a playlist renamed to
.mp4, a non-media file) is the worker's probe, later.
"""

from __future__ import annotations

import asyncio

from api.problems import Loc, Problem, field_error, validation_problem
from clipper.errors import MediaError, MediaNotFoundError
from clipper.paths import MediaRoot, validate_relative_path

NO_SUCH_FILE = "no such file under the media root"


def path_problem(path: str) -> str | None:
    """Why ``path`` is not a plain relative media path, or None when it is.

    The clipper's rules (no scheme or protocol prefix, not absolute, no ``..``, no
    control or invisible characters, ``/`` separators). A path the clipper would only
    accept after normalising (``./a.mp4``, ``a//b.mp4``) is refused with its plain
    form: the command carries the path exactly as sent, so it must already be plain.
    """
    try:
        clean = validate_relative_path(path)
    except MediaError as exc:
        return exc.message
    if clean != path:
        return f"write the path in its plain form: {clean!r}"
    return None


def file_problem(media: MediaRoot, path: str) -> str | None:
    """Why ``path`` names no regular file inside the media root (symlinks followed and
    kept inside), or None. Touches the file system: run it in a thread."""
    try:
        media.resolve(path)
    except MediaNotFoundError:
        return NO_SUCH_FILE
    except MediaError as exc:
        return exc.message
    return None


def refuse(loc: Loc, reason: str) -> Problem:
    return validation_problem([field_error(loc, reason)])


def check_path_shape(loc: Loc, path: str) -> None:
    reason = path_problem(path)
    if reason is not None:
        raise refuse(loc, reason)


async def check_file_exists(loc: Loc, media: MediaRoot, path: str) -> None:
    reason = await asyncio.to_thread(file_problem, media, path)
    if reason is not None:
        raise refuse(loc, reason)
