"""Where a test puts an organization's files: its space under the media root."""

from __future__ import annotations

from pathlib import Path

from clipper.paths import space_dir
from wavestack.settings import Settings


def org_space(settings: Settings, org: str = "org-a") -> Path:
    """The organization's media space (made if missing): client paths are relative to it."""
    path = settings.media_root.resolve() / space_dir(org)
    path.mkdir(parents=True, exist_ok=True)
    return path
