"""prepare() constructs the envelope without validating it again: it must still be valid."""

from __future__ import annotations

import uuid

import pytest
from aiohttp.test_utils import make_mocked_request

from api.auth.principal import Principal
from api.commands.body import command_data
from api.commands.envelope import MAX_KEY_CHARS, idempotency_key, prepare
from api.problems import Problem
from schemas.codec import decode, encode
from schemas.commands import CancelItem, EnqueueItem
from schemas.envelope import Envelope

WHO = Principal(org_id="org-a", sub="bot-1", kind="bot", scopes=frozenset({"queue:write"}))


def test_a_prepared_envelope_equals_its_validated_copy_and_survives_the_codec() -> None:
    correlation = uuid.uuid4()
    request = make_mocked_request(
        "POST", "/v1/queue", headers={"X-Correlation-Id": str(correlation)}
    )
    command = EnqueueItem(platform="youtube", title="Hello", description="d")
    cmd = prepare(request, WHO, command, command_data(command), key="key-1")
    validated = Envelope.model_validate(cmd.envelope.model_dump())
    assert validated == cmd.envelope
    assert decode(encode(cmd.envelope)) == validated
    assert cmd.envelope.correlation_id == correlation
    assert cmd.envelope.occurred_at.utcoffset() is not None
    assert cmd.envelope.sequence is None


def test_a_command_on_an_existing_item_keeps_that_items_id() -> None:
    item = uuid.uuid4()
    request = make_mocked_request("POST", f"/v1/queue/{item}/cancel")
    command = CancelItem()
    cmd = prepare(request, WHO, command, command_data(command), key=None, aggregate_id=item)
    assert cmd.aggregate_id == item
    assert Envelope.model_validate(cmd.envelope.model_dump()) == cmd.envelope


@pytest.mark.parametrize("key", ["a", "~!#", "K" * MAX_KEY_CHARS, "run-1-2026-12-02"])
def test_an_idempotency_key_of_visible_ascii_is_taken_as_it_is(key: str) -> None:
    request = make_mocked_request("POST", "/v1/queue", headers={"Idempotency-Key": key})
    assert idempotency_key(request, required=True) == key


@pytest.mark.parametrize(
    "key", ["", "with space", "tab\there", "del\x7f", "caf\u00e9", "K" * (MAX_KEY_CHARS + 1)]
)
def test_an_idempotency_key_with_anything_else_is_a_400_naming_the_header(key: str) -> None:
    request = make_mocked_request("POST", "/v1/queue", headers={"Idempotency-Key": key})
    with pytest.raises(Problem) as refused:
        idempotency_key(request, required=True)
    assert refused.value.status == 400
    assert "Idempotency-Key" in refused.value.detail
