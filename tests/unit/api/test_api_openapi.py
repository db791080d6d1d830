"""The OpenAPI document built from the route table (no server needed)."""

from __future__ import annotations

from api.openapi import build_document
from api.routes import ROUTES


def test_the_clip_request_schema_does_not_offer_the_server_filled_source() -> None:
    doc = build_document(ROUTES)
    properties = doc["components"]["schemas"]["RequestClip"]["properties"]
    assert "resolved_source" not in properties
    assert {"source", "start", "duration", "end", "mode", "aspect"} <= properties.keys()


def test_clip_requests_and_asset_content_document_their_extra_answers() -> None:
    paths = build_document(ROUTES)["paths"]
    assert {"404", "409"} <= paths["/v1/clips"]["post"]["responses"].keys()
    content = paths["/v1/assets/{id}/content"]["get"]["responses"]
    assert {"200", "206", "304", "409", "416"} <= content.keys()
