"""Reads the KEY=value env files compose uses (comments and blank lines skipped)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from wavestack.settings import Settings


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path.name}:{number}: not KEY=value")
        values[key.strip()] = value.strip()
    return values


def secret_settings() -> set[str]:
    """The WAVESTACK_* names of settings held as SecretStr (never in plain config)."""
    secret = {SecretStr, SecretStr | None}
    return {
        f"WAVESTACK_{name.upper()}"
        for name, info in Settings.model_fields.items()
        if info.annotation in secret
    }


def settings_from(values: dict[str, str]) -> Settings:
    """Settings built from WAVESTACK_* values alone: pydantic checks every value."""
    fields: dict[str, str] = {}
    for key, value in values.items():
        name = key.removeprefix("WAVESTACK_").lower()
        # A field with aliases (AUTH_KEYS_DIR, ...) is given by one of them.
        aliased = Settings.model_fields[name].validation_alias is not None
        fields[key if aliased else name] = value
    return Settings.model_validate(fields)
