"""``serve --documented-only`` for webhook payloads: events carry no field Askara does not document.

The public API's handlers leave invented fields out of their answers themselves
(:func:`mock_server.core.assumptions.served_form`); events are built once, when they fire, so
this event transform takes the same fields out of the resource an event carries.
"""

from __future__ import annotations

from mock_server.core.assumptions import DOCUMENT_EXTRA_FIELDS, NOTE_AUDIO_FIELD, Assumption, without_invented_fields
from mock_server.core.context import MockContext
from mock_server.core.store import Record

PAYLOAD_FIELDS: dict[str, Assumption] = {"document": DOCUMENT_EXTRA_FIELDS, "note": NOTE_AUDIO_FIELD}
"""Resource type in ``metadata`` -> the assumption whose fields it must not carry."""


def install(ctx: MockContext) -> None:
    if ctx.settings.documented_only:
        ctx.event_transforms.append(documented_payload)


def documented_payload(event: Record) -> None:
    metadata = event.get("payload", {}).get("metadata")
    if not isinstance(metadata, dict):
        return
    for resource_type, entry in PAYLOAD_FIELDS.items():
        resource = metadata.get(resource_type)
        if isinstance(resource, dict):
            metadata[resource_type] = without_invented_fields(resource, entry)
