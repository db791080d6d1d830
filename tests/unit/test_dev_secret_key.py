"""`wavestack dev`'s local key ring: made once, owner-only, then reused."""

from __future__ import annotations

from pathlib import Path

from vault.keyring import KeyRing
from wavestack.secrets import dev_secret_key


def test_the_dev_ring_is_generated_once_with_mode_0600_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / ".stack" / "secret-key"
    first = dev_secret_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert dev_secret_key(path) == first
    assert KeyRing.parse(first).primary == "dev1"
