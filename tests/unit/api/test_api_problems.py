"""Problem details: pydantic errors become loc/msg pairs; challenges stay well-formed."""

from __future__ import annotations

import json

from pydantic import ValidationError

from api.problems import from_validation_error, unauthorized
from schemas.commands import EnqueueItem, RequestClip


def test_pydantic_errors_become_located_messages_without_the_value_error_prefix() -> None:
    try:
        EnqueueItem.model_validate({"platform": "myspace", "title": " ", "org_id": "x"})
    except ValidationError as exc:
        problem = from_validation_error(exc, "body")
    body = problem.body()
    assert body["status"] == 422
    locs = {tuple(e["loc"]): e["msg"] for e in body["errors"]}
    assert set(locs) == {("body", "platform"), ("body", "title"), ("body", "org_id")}
    assert locs[("body", "title")] == "title must not be blank"
    json.dumps(body)  # serialisable as it stands


def test_model_level_errors_are_located_at_the_model() -> None:
    try:
        RequestClip.model_validate({"source": {}, "start": 0, "duration": 1})
    except ValidationError as exc:
        problem = from_validation_error(exc, "body")
    assert problem.errors == [
        {"loc": ["body", "source"], "msg": "give exactly one of asset_id or path"}
    ]


def test_the_bearer_challenge_never_carries_a_raw_quote() -> None:
    problem = unauthorized('bad "token" \\ here')
    challenge = problem.headers["WWW-Authenticate"]
    assert challenge.count('"') == 6  # realm, error and error_description, each quoted
    assert "\\" not in challenge
