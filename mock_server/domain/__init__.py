"""The domain: patients, documents and notes, their rules and served forms, seeding and PDF letters.

Everything here works on a :class:`~mock_server.core.context.MockContext` and knows no HTTP.
"""

from __future__ import annotations

from mock_server.domain.datagen import DataGen, data_gen, fresh_uuid, now_int, owner, reset_data_gen
from mock_server.domain.documents import (
    DOCUMENT_TYPES,
    build_document,
    new_document,
    public_document,
    synchronize_document,
    validate_document,
)
from mock_server.domain.notes import create_note, new_note, public_note
from mock_server.domain.patients import build_patient, new_patient

__all__ = [
    "DOCUMENT_TYPES",
    "DataGen",
    "build_document",
    "build_patient",
    "create_note",
    "data_gen",
    "fresh_uuid",
    "new_document",
    "new_note",
    "new_patient",
    "now_int",
    "owner",
    "public_document",
    "public_note",
    "reset_data_gen",
    "synchronize_document",
    "validate_document",
]
