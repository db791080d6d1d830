"""Shape check of media paths in requests: relative to the media root, nothing more.

What the request alone can tell is refused here with 422 (DESIGN §10, issue 3); what
only the file can tell (links out, playlists, non-media) is the clipper's job later.
When the clipper provides ``clipper.paths.validate_relative_path`` it is applied too,
so the API and the clipper can never disagree on the rules.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
from collections.abc import Callable
from typing import Any

# A scheme or protocol prefix ffmpeg would honour ("http:", "concat:", "subfile,,...:").
_PROTOCOL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*[:,]")


def local_path_problem(path: str) -> str | None:
    """Why ``path`` is not an acceptable relative media path, or None when it is."""
    if not path:
        return "the path is empty"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return "the path contains control characters"
    if "\\" in path:
        return "use '/' as the separator"
    if path.startswith("/"):
        return "the path must be relative to the media root"
    if _PROTOCOL.match(path) or ":" in path:
        return "protocol prefixes and ':' are not allowed in media paths"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "the path must not contain empty, '.' or '..' segments"
    return None


@functools.cache
def _clipper_validator() -> Callable[[str], Any] | None:
    if importlib.util.find_spec("clipper") is None or (
        importlib.util.find_spec("clipper.paths") is None
    ):
        return None
    # Present but broken must fail loudly, not silently skip the clipper's rules.
    module = importlib.import_module("clipper.paths")
    validator = getattr(module, "validate_relative_path", None)
    return validator if callable(validator) else None


def path_problem(path: str) -> str | None:
    """The local rules, then the clipper's (its ValueError message becomes the reason)."""
    reason = local_path_problem(path)
    if reason is not None:
        return reason
    validator = _clipper_validator()
    if validator is not None:
        try:
            validator(path)
        except ValueError as exc:
            return str(exc) or "the path is not acceptable"
    return None
