"""Client paths to media: shape checks, and resolution that never leaves the media root.

Every organization has its own space under the root (``MediaRoot.space``): a client
path is relative to the caller's space, and resolution never leaves that space.
"""

from __future__ import annotations

import hashlib
import re
import stat
import unicodedata
from pathlib import Path, PurePosixPath

from clipper.errors import MediaNotFoundError, UnsafePathError, UnsupportedMediaError

MAX_PATH_CHARS = 1024
MAX_NAME_BYTES = 255  # NAME_MAX on Linux file systems
# ffmpeg reads "<scheme>:" (and "subfile,...:") as a protocol, whatever follows.
_PROTOCOL_PREFIX = re.compile(r"^(?:[a-z0-9+.-]+:|subfile,)", re.IGNORECASE)
# Control characters, newlines, bidi overrides, zero-width marks, lone surrogates.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# The API's working folder for tus uploads in progress, in every space: a partial
# upload is never a source a client may name.
UPLOADS_DIR = ".uploads"
SPACE_PREFIX = "org-"
_SPACE_NAME = re.compile(rf"^{SPACE_PREFIX}[0-9a-f]{{64}}$")


def space_dir(org_id: str) -> str:
    """The directory name of an organization's space: ``org-`` + sha256 of the UTF-8 id.

    Org ids are 1-255 characters of anything; a hash gives a fixed 68-character name of
    ``[0-9a-f-]`` only (no escape can make ``..``, ``/`` or a name over NAME_MAX), and two
    ids share a space only if they share a sha256. An escape would be readable but can
    triple the length past NAME_MAX.
    """
    if not org_id:
        raise ValueError("an organization id is never empty")
    return SPACE_PREFIX + hashlib.sha256(org_id.encode("utf-8", "surrogatepass")).hexdigest()


def is_space_dir(name: str) -> bool:
    return _SPACE_NAME.match(name) is not None


def validate_relative_path(raw: str, *, field: str = "path") -> str:
    """Check the shape of a client path (no file system access); return it normalised.

    Accepts only plain relative paths with "/" separators: no scheme or protocol
    prefix, no absolute path, no ".." component, no control or invisible characters.
    A leading "-" is fine: ffmpeg only ever sees ``file:<absolute path>``.
    """
    if not raw or not raw.strip():
        raise UnsafePathError("the path is empty", field=field)
    if len(raw) > MAX_PATH_CHARS:
        raise UnsafePathError(f"the path is longer than {MAX_PATH_CHARS} characters", field=field)
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in raw):
        raise UnsafePathError(
            "the path contains a control or invisible character (a newline, a tab, ...)",
            field=field,
        )
    if _PROTOCOL_PREFIX.match(raw):
        raise UnsafePathError(
            "URLs and protocol prefixes (http:, file:, concat:, subfile, ...) are refused; "
            "give a path relative to the media root",
            field=field,
        )
    if "\\" in raw:
        raise UnsafePathError("use / as the path separator", field=field)
    if raw.startswith("/"):
        raise UnsafePathError(
            "absolute paths are refused; give a path relative to the media root", field=field
        )
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafePathError("'..' is not allowed in a media path", field=field)
    if not parts:
        raise UnsafePathError("the path names no file", field=field)
    if parts[0] == UPLOADS_DIR:
        raise UnsafePathError(
            f"{UPLOADS_DIR}/ holds uploads in progress; name the asset of a finished upload",
            field=field,
        )
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in parts):
        raise UnsafePathError(
            f"a path component is longer than {MAX_NAME_BYTES} bytes", field=field
        )
    return str(PurePosixPath(*parts))


def ffmpeg_url(path: Path) -> str:
    """The only form in which a path reaches ffmpeg/ffprobe.

    ``file:`` pins the protocol (a name like ``http:x`` or ``-i`` stays a file name) and
    the absolute path means nothing is resolved against ffmpeg's working directory.
    """
    if not path.is_absolute():
        raise ValueError(f"ffmpeg only gets absolute paths, not {path}")
    return f"file:{path}"


class MediaRoot:
    """The directory that holds every source and every clip; nothing outside is read.

    The process-wide root holds one space per organization; ``space(org_id)`` is again
    a MediaRoot, whose ``resolve`` stays inside that organization's space.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def space(self, org_id: str) -> MediaRoot:
        """The organization's space (it need not exist yet: resolving in it then finds
        nothing). Only the root's own directory entries are trusted, so a space planted
        as a link elsewhere is the operator's doing, not a client's."""
        return MediaRoot(self.root / space_dir(org_id))

    def spaces(self) -> list[MediaRoot]:
        """Every organization space that exists (for sweepers: per-space temp folders)."""
        if not self.root.is_dir():
            return []
        return [
            MediaRoot(entry)
            for entry in sorted(self.root.iterdir())
            if is_space_dir(entry.name) and entry.is_dir() and not entry.is_symlink()
        ]

    def resolve(self, rel: str, *, field: str = "path") -> Path:
        """The real absolute path of an existing regular file inside the root.

        Symbolic links are followed and must end inside the root; the path returned
        contains no links, so ffmpeg opens exactly what was checked.
        """
        clean = validate_relative_path(rel, field=field)
        try:
            real = (self.root / clean).resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop
            raise UnsafePathError(f"{clean!r} cannot be resolved", field=field) from exc
        if not real.is_relative_to(self.root):
            raise UnsafePathError(f"{clean!r} points outside the media root", field=field)
        try:
            info = real.stat()
        except FileNotFoundError as exc:
            raise MediaNotFoundError(
                f"{clean!r} does not exist in the media root", field=field
            ) from exc
        except OSError as exc:
            raise UnsupportedMediaError(f"{clean!r} cannot be read", field=field) from exc
        if not stat.S_ISREG(info.st_mode):
            raise UnsupportedMediaError(f"{clean!r} is not a regular file", field=field)
        return real

    def relative(self, path: Path) -> str:
        """A path inside the root as the client-facing relative form."""
        return path.resolve().relative_to(self.root).as_posix()
