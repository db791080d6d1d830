"""prepare() constructs the envelope without validating it again: it must still be valid."""

from __future__ import annotations

import uuid

from aiohttp.test_utils import make_mocked_request

from api.auth.principal import Principal
from api.commands.body import command_data
from api.commands.envelope import prepare
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
