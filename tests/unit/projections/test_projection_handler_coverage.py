"""Every event type of the catalog is either projected or deliberately audit-only."""

from __future__ import annotations

from projections.handlers import AUDIT_ONLY, EVENT_HANDLERS
from schemas.catalog import EVENT_TYPES


def test_every_event_type_has_a_read_model_handler_or_is_declared_audit_only() -> None:
    unhandled = set(EVENT_TYPES) - set(EVENT_HANDLERS) - AUDIT_ONLY

    assert unhandled == set()


def test_no_event_type_is_both_handled_and_declared_audit_only() -> None:
    assert set(EVENT_HANDLERS) & AUDIT_ONLY == set()


def test_handlers_are_registered_only_for_event_types_the_catalog_knows() -> None:
    assert set(EVENT_HANDLERS) <= set(EVENT_TYPES)
    assert set(EVENT_TYPES) >= AUDIT_ONLY
