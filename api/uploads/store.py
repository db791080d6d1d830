"""Uploads on disk: ``<space>/.uploads/<id>.part`` (the bytes) and ``<id>.json`` (the rest).

State lives on disk, beside the bytes, not in PostgreSQL: the API never writes the read
model, the offset *is* the size of the part file (so it can only count bytes that were
written), and deleting the folder is deleting the upload. Everything here blocks:
call it through ``asyncio.to_thread``. A finished upload's file is renamed to
``<space>/uploaded/<id>.<ext>``: a generated name, never the client's.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import uuid
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from api.uploads.metadata import UploadMeta
from clipper.paths import UPLOADS_DIR, MediaRoot

FINISHED_DIR = "uploaded"
_ID = re.compile(r"^[0-9a-f]{32}$")
UploadState = Literal["receiving", "registering", "registered"]


class UnsafeSpace(Exception):
    """A folder the store writes into is a link or not a directory (planted in the space)."""


class UploadRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    org_id: str
    length: int
    meta: UploadMeta
    created_at: datetime
    expires_at: datetime
    # receiving: bytes arriving; registering: complete, RegisterAsset maybe not produced
    # yet; registered: RegisterAsset is on the log.
    state: UploadState = "receiving"
    asset_id: uuid.UUID
    command_id: uuid.UUID

    @property
    def final_path(self) -> str:
        """Where the finished file lives, relative to the organization's space."""
        return f"{FINISHED_DIR}/{self.id}.{self.meta.extension}"

    def expired(self, now: datetime) -> bool:
        return self.state == "receiving" and now >= self.expires_at


def new_upload_id() -> str:
    return uuid.uuid4().hex  # 122 random bits: an id is not guessable


def valid_id(raw: str) -> bool:
    return _ID.match(raw) is not None


def _plain_dir(path: Path, inside: Path) -> Path:
    """``path`` as a real directory inside ``inside`` (made if missing), never a link."""
    path.mkdir(mode=0o750, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or path.resolve() != path or not path.is_relative_to(inside):
        raise UnsafeSpace(f"{path.name} is not a plain directory of the space")
    return path


class UploadStore:
    """The uploads of one organization's space."""

    def __init__(self, media_root: Path, space: MediaRoot) -> None:
        self.media_root = media_root
        self.space = space
        self.dir = space.root / UPLOADS_DIR

    @classmethod
    def of_org(cls, media: MediaRoot, org_id: str) -> UploadStore:
        return cls(media.root, media.space(org_id))

    @classmethod
    def of_space(cls, media: MediaRoot, space: MediaRoot) -> UploadStore:
        return cls(media.root, space)

    def _checked_space(self) -> Path:
        root = _plain_dir(self.space.root, self.media_root)
        if root.parent != self.media_root:
            raise UnsafeSpace("the space is not a directory of the media root")
        return root

    def _checked_dir(self) -> Path:
        return _plain_dir(self.dir, self._checked_space())

    def part(self, upload_id: str) -> Path:
        return self.dir / f"{upload_id}.part"

    def _sidecar(self, upload_id: str) -> Path:
        return self.dir / f"{upload_id}.json"

    def create(self, record: UploadRecord) -> None:
        folder = self._checked_dir()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        os.close(os.open(folder / f"{record.id}.part", flags, 0o640))
        self.save(record)

    def save(self, record: UploadRecord) -> None:
        """Atomically: a crash leaves the old sidecar or the new one, never half of one."""
        folder = self._checked_dir()
        temp = folder / f"{record.id}.json.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(temp, flags, 0o640)
        try:
            os.write(fd, record.model_dump_json().encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, self._sidecar(record.id))

    def load(self, upload_id: str) -> UploadRecord | None:
        if not valid_id(upload_id):
            return None
        try:
            fd = os.open(self._sidecar(upload_id), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as f:
            raw = f.read(1024 * 1024)
        try:
            return UploadRecord.model_validate_json(raw)
        except ValueError:
            return None  # not ours (or torn by hand): as good as absent

    def offset(self, record: UploadRecord) -> int:
        if record.state != "receiving":
            return record.length
        try:
            return self.part(record.id).lstat().st_size
        except FileNotFoundError:
            return 0

    def open_part(self, upload_id: str) -> int:
        """A write descriptor of the part file (links refused)."""
        self._checked_dir()
        return os.open(self.part(upload_id), os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)

    def finish(self, record: UploadRecord) -> Path:
        """Renames the complete part file to its final name (idempotent after a crash)."""
        folder = _plain_dir(self.space.root / FINISHED_DIR, self._checked_space())
        final = folder / Path(record.final_path).name
        part = self.part(record.id)
        if not part.exists() and final.exists():
            return final  # renamed before a crash, the sidecar not updated yet
        os.replace(part, final)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return final

    def remove(self, upload_id: str, *, keep_bytes: bool = False) -> None:
        paths = [self._sidecar(upload_id)]
        if not keep_bytes:
            paths.append(self.part(upload_id))
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def records(self) -> list[UploadRecord]:
        if not self.dir.is_dir() or self.dir.is_symlink():
            return []
        found = []
        for entry in self.dir.glob("*.json"):
            record = self.load(entry.stem)
            if record is not None:
                found.append(record)
        return found

    def orphans(self, older_than: float) -> list[Path]:
        """Part files with no sidecar (a crash between the two writes of ``create``)."""
        if not self.dir.is_dir() or self.dir.is_symlink():
            return []
        return [
            part
            for part in self.dir.glob("*.part")
            if not self._sidecar(part.stem).exists() and part.lstat().st_mtime < older_than
        ]
