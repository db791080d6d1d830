"""The connection aggregate: created once with sealed credentials, deleted once."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.publishing import (
    ConnectionCreated,
    ConnectionDeleted,
    CreateConnection,
    DeleteConnection,
)
from streams.domain.connection import decide, evolve

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CREATE = CreateConnection(
    platform="discord", name="Server", sealed_credentials="v1:abc", key_id="k1"
)


def test_creating_a_connection_records_only_the_sealed_credentials() -> None:
    [event] = decide(CREATE, None, NOW).events
    assert isinstance(event, ConnectionCreated)
    assert (event.platform, event.sealed_credentials, event.key_id) == ("discord", "v1:abc", "k1")


def test_creating_it_again_is_a_conflict() -> None:
    state = evolve(None, ConnectionCreated(**CREATE.model_dump()))
    assert decide(CREATE, state, NOW).status == 409


def test_deleting_is_applied_once_then_a_duplicate() -> None:
    state = evolve(None, ConnectionCreated(**CREATE.model_dump()))
    [event] = decide(DeleteConnection(), state, NOW).events
    assert isinstance(event, ConnectionDeleted)
    deleted = evolve(state, event)
    assert deleted.status == "deleted"
    assert decide(DeleteConnection(), deleted, NOW).outcome == "duplicate"
    assert decide(DeleteConnection(), None, NOW).status == 404


def test_credentials_that_are_not_sealed_are_refused_by_the_schema() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        CreateConnection(platform="x", name="n", sealed_credentials='{"token": "t"}', key_id="k")
