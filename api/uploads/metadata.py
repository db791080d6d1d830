"""What an upload says about itself (``Upload-Metadata``), checked at creation.

The client's filename is only ever metadata (the asset's default title and the source
of its extension): the file is stored under a generated name, so a hostile filename
cannot name a path. It is still refused when it could not be a plain file name, so
that clients learn early and the title shown later is sane.
"""

from __future__ import annotations

import unicodedata
import uuid
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.problems import field_error, validation_problem
from api.storable import unstorable
from schemas.commands import AssetKind

MAX_FILENAME_BYTES = 255
MAX_TITLE_CHARS = 200
# The extension kept from the client's filename (lower case); others become ".bin",
# which ffprobe still identifies by content.
MEDIA_EXTENSIONS = frozenset(
    {
        "mp4", "m4v", "mov", "webm", "mkv", "ts", "avi", "flv", "ogv", "m4a", "mp3", "aac",
        "wav", "flac", "ogg", "opus", "png", "jpg", "jpeg", "webp",
    }
)  # fmt: skip
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_LOC = ["header", "Upload-Metadata"]


class UploadMeta(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    filename: str
    kind: AssetKind = "video"
    title: str = Field(default="", max_length=MAX_TITLE_CHARS)
    project_id: uuid.UUID | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @property
    def extension(self) -> str:
        suffix = PurePosixPath(self.filename).suffix.lower().lstrip(".")
        return suffix if suffix in MEDIA_EXTENSIONS else "bin"

    @property
    def asset_title(self) -> str:
        return self.title or PurePosixPath(self.filename).stem[:MAX_TITLE_CHARS]


def filename_problem(name: str) -> str | None:
    if not name.strip():
        return "the filename is empty"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES:
        return f"the filename is longer than {MAX_FILENAME_BYTES} bytes"
    if "/" in name or "\\" in name:
        return "a filename has no directory part ('/' or '\\')"
    if ".." in name:
        return "a filename may not contain '..'"
    if name.startswith("-"):
        return "a filename may not start with '-'"
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in name):
        return "the filename contains a control or invisible character (NUL, newline, ...)"
    return None


def upload_meta(pairs: dict[str, str]) -> UploadMeta:
    """The metadata as a model; 422 naming the key that is wrong. Uppy sends the name
    as ``name`` too, so either key is taken."""
    values: dict[str, Any] = dict(pairs)
    if "filename" not in values and "name" in values:
        values["filename"] = values["name"]
    if "sha256" in values:
        values["sha256"] = values["sha256"].strip().lower()
    if "project_id" in values and not values["project_id"].strip():
        del values["project_id"]
    try:
        meta = UploadMeta.model_validate(values)
    except ValidationError as exc:
        errors = [
            field_error([*_LOC, *err["loc"]], err["msg"].removeprefix("Value error, "))
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise validation_problem(errors) from exc
    reason = filename_problem(meta.filename)
    if reason is not None:
        raise validation_problem([field_error([*_LOC, "filename"], reason)])
    # The same storability check every command body gets: a title PostgreSQL cannot
    # store would make the RegisterAsset of the finished upload poison.
    refused = list(unstorable(meta.model_dump(), list(_LOC)))
    if refused:
        raise validation_problem([field_error(loc, msg) for loc, msg in refused])
    return meta
