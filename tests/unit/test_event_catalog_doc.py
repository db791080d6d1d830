"""docs/event-catalog.md is generated from the schemas and must match them."""

from __future__ import annotations

from pathlib import Path

from schemas.catalog_doc import render_catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "event-catalog.md"


def test_the_event_catalog_document_matches_the_code() -> None:
    assert DOC.read_text() == render_catalog(), (
        "regenerate it: .venv/bin/wavestack catalog > docs/event-catalog.md"
    )


def test_the_catalog_lists_every_message_type_with_its_fields() -> None:
    text = render_catalog()
    assert "### `queue.ItemEnqueued` v1" in text
    assert "| `schedule_at` |" in text
