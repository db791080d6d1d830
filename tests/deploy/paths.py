"""Where the deploy files live, and the settings they may name."""

from __future__ import annotations

import tomllib
from pathlib import Path

from wavestack.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "container" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
COMPOSE_SCHEMA = DEPLOY / "compose" / "schema" / "compose-spec.json"
K8S = DEPLOY / "k8s"

# The image's user; the Kubernetes securityContext must name the same ids.
IMAGE_UID = 10001


def setting_names() -> set[str]:
    """Every environment variable Settings reads (WAVESTACK_* and the seed's aliases)."""
    names = {f"WAVESTACK_{name.upper()}" for name in Settings.model_fields}
    for info in Settings.model_fields.values():
        choices = getattr(info.validation_alias, "choices", ())
        names.update(str(choice) for choice in choices)
    return names


def packages() -> list[str]:
    """Top-level packages pyproject.toml ships (its `packages.find` include list)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include: list[str] = config["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({pattern.rstrip("*") for pattern in include})
