"""Where clips live: content-addressed paths, written under a temporary name, then renamed."""

from __future__ import annotations

import contextlib
import os
import stat
import time
import uuid
from pathlib import Path, PurePosixPath

from clipper.errors import MediaError
from clipper.paths import MediaRoot, validate_relative_path

CLIPS_DIR = "clips"
# Inside clips/ so a rename into clips/<xx>/ never crosses file systems.
PARTIAL_DIR = "clips/.partial"
PARTIAL_SUFFIX = ".partial"


def clip_path(root: Path, sha256: str, ext: str) -> Path:
    return root / CLIPS_DIR / sha256[:2] / f"{sha256}.{ext}"


def thumbnail_path(root: Path, clip_sha256: str, ext: str) -> Path:
    return root / CLIPS_DIR / clip_sha256[:2] / f"{clip_sha256}.thumb.{ext}"


def source_thumbnail_path(root: Path, asset_id: uuid.UUID, ext: str) -> Path:
    """A registered source's thumbnail, named by its asset: two assets of the same file
    (two uploads of it, a clip registered again) each own theirs, so deleting one asset
    never takes another's thumbnail, and no name is ever a clip's (named by sha256)."""
    name = asset_id.hex
    return root / CLIPS_DIR / name[:2] / f"{name}.thumb.{ext}"


def temp_path(root: Path, ext: str) -> Path:
    """A fresh name for a file being written; never a name any reader looks for."""
    partial = root / PARTIAL_DIR
    partial.mkdir(parents=True, exist_ok=True)
    return partial / f"{uuid.uuid4().hex}.{ext}{PARTIAL_SUFFIX}"


def sync_file(path: Path) -> None:
    """Flush a file's data to disk (before it is renamed into place)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(temp: Path, final: Path, *, durable: bool = True, synced: bool = False) -> None:
    """Atomically move a complete file to its final path (the same bytes may be there).

    ``durable`` syncs the data before the rename (unless the caller already did:
    ``synced``) and the directory after, so that even a power cut never leaves an
    empty or partial file at ``final``. When ``final`` already holds a file of the
    same size, it is kept and ``temp`` is left for the caller to discard.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    if _same_size(temp, final):
        # Content-addressed: a file of this name and size is these very bytes, put
        # there (synced) by an earlier run. Replacing it would only make the file
        # system free the old copy's blocks inside the directory sync below.
        if durable:
            _sync_directory(final.parent)
        return
    if durable and not synced:
        sync_file(temp)
    os.replace(temp, final)
    if durable:
        _sync_directory(final.parent)


def _same_size(temp: Path, final: Path) -> bool:
    try:
        there = final.lstat()
    except FileNotFoundError:
        return False
    return stat.S_ISREG(there.st_mode) and there.st_size == temp.stat().st_size


def _sync_directory(directory: Path) -> None:
    """Make the names in ``directory`` (a rename into it) survive a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def discard(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def cleanup_stale_temp_files(root: Path, *, older_than_seconds: float = 0.0) -> list[Path]:
    """Delete temp files left by a crashed run; returns what was deleted.

    Call at worker start. With 0 everything in the temp area goes, which is right when
    this worker is the only one writing to ``root``; when several workers share a media
    root, pass more than the job timeout so that another worker's running job (whose
    file ffmpeg keeps touching) is left alone.
    """
    partial = root / PARTIAL_DIR
    if not partial.is_dir():
        return []
    cutoff = time.time() - older_than_seconds
    removed = []
    for entry in partial.iterdir():
        try:
            info = entry.lstat()
            if stat.S_ISDIR(info.st_mode) or info.st_mtime > cutoff:
                continue
            entry.unlink()
        except FileNotFoundError:
            continue  # another worker cleaned it at the same moment
        removed.append(entry)
    return removed


def remove_from(space: MediaRoot, relative: str) -> bool:
    """Removes the file ``relative`` names in ``space``; False when there was nothing to
    remove (so a repeat is harmless) or the name leads outside the space.

    The name itself goes: a link is removed, never what it points to, and only when its
    directory resolves inside the space. A running ffmpeg that has the file open keeps
    reading it (POSIX unlink), so a clip under way still finishes.
    """
    try:
        clean = validate_relative_path(relative)
        parent = (space.root / clean).parent.resolve()
    except (MediaError, OSError, RuntimeError):
        return False
    if not parent.is_relative_to(space.root):
        return False
    target = parent / PurePosixPath(clean).name
    try:
        info = target.lstat()
    except OSError:
        return False
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
        return False
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    return True
