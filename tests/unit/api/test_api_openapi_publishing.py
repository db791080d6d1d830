"""The OpenAPI document's publishing routes: every new route and its answers."""

from __future__ import annotations

from api.openapi import build_document
from api.routes import ROUTES


def test_connection_routes_are_documented_with_their_scopes_and_answers() -> None:
    paths = build_document(ROUTES)["paths"]
    create = paths["/v1/connections"]["post"]
    assert create["security"] == [{"bearer": ["connections:write"]}]
    assert {"202", "400", "403", "422", "503"} <= create["responses"].keys()
    assert "WAVESTACK_SECRET_KEY" in create["responses"]["503"]["description"]
    assert paths["/v1/connections"]["get"]["security"] == [{"bearer": ["read"]}]
    assert "200" in paths["/v1/connections/{id}"]["get"]["responses"]
    delete = paths["/v1/connections/{id}"]["delete"]["responses"]
    assert {"202", "404"} <= delete.keys()
    assert "200" not in delete  # it answers 202, as every command does


def test_retry_and_the_queue_reads_are_documented() -> None:
    doc = build_document(ROUTES)
    retry = doc["paths"]["/v1/queue/{id}/retry"]["post"]
    assert retry["security"] == [{"bearer": ["queue:write"]}]
    assert {"202", "404", "409"} <= retry["responses"].keys()
    assert retry["requestBody"]["required"] is False
    names = {p["name"] for p in doc["paths"]["/v1/queue"]["get"]["parameters"]}
    assert {"schedule_from", "schedule_to", "overdue", "connection_id"} <= names
    item = doc["components"]["schemas"]["QueueItemDetail"]["properties"]
    assert {"attempt_history", "post", "schedule_local", "due_at"} <= item.keys()


def test_server_filled_queue_fields_and_credentials_are_not_offered_back() -> None:
    schemas = build_document(ROUTES)["components"]["schemas"]
    enqueue = schemas["EnqueueItem"]["properties"]
    assert "connection_id" in enqueue
    assert not {"connection_platform", "schedule_local"} & enqueue.keys()
    assert "credentials" not in schemas["Connection"]["properties"]
    assert "credentials" in schemas["ConnectionBody"]["required"]
