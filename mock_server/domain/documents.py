"""Documents: what a clinician writes, validates and synchronizes, and their served form.

A document is a draft until validated (``new_document``); the Synchronize button re-sends it
(``document_synchronize``; its 30 s cooldown is :mod:`mock_server.domain.synchronize`'s rule).
``public_document`` turns a record into the served form (no ``_`` keys, ISO times, a freshly
pre-signed PDF link).
"""

from __future__ import annotations

import math
from typing import Any

from mock_server.core.context import MockContext
from mock_server.core.errors import Conflict, TooManyRequests
from mock_server.core.store import Record
from mock_server.core.timefmt import iso
from mock_server.domain.datagen import (
    ascii_slug,
    calendar_day,
    check_keys,
    data_gen,
    fresh_uuid,
    iso_or_none,
    now_int,
    owner,
)
from mock_server.domain.links import signed_pdf_url
from mock_server.domain.patients import patient_for

DOCUMENT_TYPES: dict[str, tuple[str, str]] = {
    # type -> (French title, file-name prefix); only referral_letter is in Askara's guide
    "referral_letter": ("Courrier d'adressage", "courrier-adressage"),
    "consultation_report": ("Compte rendu de consultation", "compte-rendu"),
    "prescription": ("Ordonnance", "ordonnance"),
    "medical_certificate": ("Certificat médical", "certificat-medical"),
}
TYPE_WEIGHTS = (6, 2, 1, 1)
_KINDS = tuple(DOCUMENT_TYPES)
_CUMULATIVE_WEIGHTS = tuple(sum(TYPE_WEIGHTS[: i + 1]) for i in range(len(TYPE_WEIGHTS)))
_OVERRIDABLE = frozenset({"type", "title"})
EMBEDDED_PATIENT = ("uuid", "externalId", "firstName", "lastName", "dateOfBirth", "gender")
SERVED_CACHE_LIMIT = 20_000
"""Served forms kept; past it the least recently served goes, one per new entry. (Clearing all of
them at once freed ~80 000 objects in one request: a 10-20 ms pause every ~670 pages at 100 000
documents, bench/README.md "Big state".)"""


def build_document(ctx: MockContext, patient: Record, *, at: int, overrides: dict[str, Any] | None = None) -> Record:
    """A draft document about ``patient`` written at ``at`` (not stored)."""
    gen = data_gen(ctx)
    kind = gen.rng.choices(_KINDS, cum_weights=_CUMULATIVE_WEIGHTS)[0]
    doc_uuid = fresh_uuid(ctx, "documents")
    overrides = overrides or {}
    if overrides:
        check_keys(overrides, _OVERRIDABLE, "document")
    kind = overrides.get("type") or kind
    label, prefix = DOCUMENT_TYPES.get(kind, (kind.replace("_", " ").capitalize(), ascii_slug(kind).lower()))
    first, last = patient["firstName"] or "", patient["lastName"] or ""
    title = overrides.get("title") or f"{label} - {first} {last.upper()}".strip()
    file_name = f"{prefix}-{ascii_slug(last).upper() or 'PATIENT'}-{ascii_slug(first) or 'X'}-{calendar_day(at)}.pdf"
    return {
        "uuid": doc_uuid,
        "type": kind,
        "state": "draft",
        "title": title,
        "createdAt": at,
        "updatedAt": at,
        "validatedAt": None,
        "synchronized": False,
        "synchronizedAt": None,
        "lastError": None,
        "patient": {
            "uuid": patient["uuid"],
            "externalId": patient.get("externalId"),
            "firstName": patient["firstName"],
            "lastName": patient["lastName"],
            "dateOfBirth": patient.get("dateOfBirth"),
            "gender": patient.get("gender"),
        },
        "pdf": {"fileName": file_name},
        "_user_id": patient.get("_user_id") or owner(ctx)[0]["uuid"],
        "_organization_id": patient.get("_organization_id") or owner(ctx)[1]["uuid"],
        "_last_sync_request": None,
    }


def new_document(
    ctx: MockContext, *, patient_uuid: str | None = None, overrides: dict[str, Any] | None = None
) -> Record:
    """Create and store a DRAFT document (not visible in the public API); emits nothing."""
    patient = patient_for(ctx, patient_uuid)
    doc = build_document(ctx, patient, at=now_int(ctx), overrides=overrides)
    return ctx.store.documents.put(doc["uuid"], doc)


def validate_document(ctx: MockContext, document: Record) -> Record:
    """The clinician validates: state ``verified``, unsynchronized; emits ``new_document``."""
    doc = ctx.store.documents.require(document["uuid"], "Document")
    if doc["state"] != "draft":
        raise Conflict(f'Document "{doc["uuid"]}" is already {doc["state"]!r}; only a draft can be validated.')
    now = now_int(ctx)
    doc.update({"state": "verified", "validatedAt": now, "updatedAt": now, "synchronized": False})
    ctx.store.documents.put(doc["uuid"], doc)
    return emit_document(ctx, "new_document", doc)


def synchronize_document(ctx: MockContext, document: Record) -> Record:
    """The Synchronize button: emits ``document_synchronize``, at most once per cooldown per document.

    Askara's UI allows a manual synchronization once every 30 s (``sync_cooldown``, on the mock
    clock); sooner is a 429 with ``Retry-After``. The document's ``synchronized`` flag is left as
    it is: pressing the button asks the integration to import again; only its status report
    changes the flag.
    """
    doc = ctx.store.documents.require(document["uuid"], "Document")
    if doc["state"] != "verified":
        raise Conflict(
            f'Document "{doc["uuid"]}" is a {doc["state"]!r}; only a validated document can be synchronized.'
        )
    now = ctx.clock.now()
    cooldown = ctx.settings.sync_cooldown
    last = doc.get("_last_sync_request")
    if last is not None and now - float(last) < cooldown:
        wait = max(1, math.ceil(float(last) + cooldown - now))
        raise TooManyRequests(
            f'Document "{doc["uuid"]}" was synchronized {now - float(last):.0f} s ago; manual synchronization is '
            f"limited to once every {cooldown} s. Retry after {wait} s.",
            retry_after=wait,
        )
    event = emit_document(ctx, "document_synchronize", doc)
    current = ctx.store.documents.get(doc["uuid"]) or doc
    current["_last_sync_request"] = now
    ctx.store.documents.put(current["uuid"], current)
    return event


def emit_document(ctx: MockContext, action: str, doc: Record) -> Record:
    return ctx.emit(
        action, "document", public_document(ctx, doc), user_id=doc["_user_id"], organization_id=doc["_organization_id"]
    )


def public_document(ctx: MockContext, doc: Record, *, expires_at: float | None = None) -> dict[str, Any]:
    """The served document: embedded patient, and a PDF link valid ``pdf_url_ttl`` from now.

    Everything but the link is memoised per stored record and its store stamp (bumped by every
    ``put``/``save``), so a list re-serves unchanged documents without rebuilding them; the link is
    always the one for now (``expires_at``, when a list fixed it once for all its items). Each call
    returns fresh dicts: callers (event transforms) may edit them.

    A memo entry is one flat tuple of strings and numbers (the record's ``id``, its stamp, then
    :func:`served_values`), which the garbage collector stops tracking the first time it sees it.
    Paging 100 000 documents keeps 20 000 entries; as (record, stamp, nested dicts) they were
    three quarters of what every young collection walked (bench/README.md "Big state", round 3).
    """
    expires = ctx.clock.now() + ctx.settings.pdf_url_ttl if expires_at is None else expires_at
    key = doc["uuid"]
    cache = ctx.caches.served_documents
    table = ctx.store.documents
    hit = cache.get(key)
    if hit is not None and hit[0] == id(doc) and hit[1] == table.stamp(key) and table.get(key) is doc:
        values = hit[2:]
        cache.move_to_end(key)
    else:
        values = served_values(doc)
        if table.get(key) is doc:
            cache[key] = (id(doc), table.stamp(key), *values)
            cache.move_to_end(key)
            if len(cache) > SERVED_CACHE_LIMIT:
                cache.popitem(last=False)
    own = len(SERVED_FIELDS)
    served = dict(zip(SERVED_FIELDS, values[:own], strict=True))
    served["patient"] = dict(zip(EMBEDDED_PATIENT, values[own:], strict=True))
    file_name = doc["pdf"]["fileName"]
    served["pdf"] = {"url": signed_pdf_url(ctx, key, file_name, expires), "fileName": file_name}
    return served


SERVED_FIELDS = ("uuid", "type", "state", "title", "patient", "pdf", "createdAt", "updatedAt", "validatedAt",
                 "synchronized", "synchronizedAt", "lastError")  # fmt: skip
"""The served form's keys, in the order they are served."""


def served_values(doc: Record) -> tuple[Any, ...]:
    """The values of :data:`SERVED_FIELDS` (``None`` where the patient and the link go), then those
    of :data:`EMBEDDED_PATIENT`: everything of the served form but the link, as one flat tuple."""
    patient = doc["patient"]
    return (
        doc["uuid"],
        doc["type"],
        doc["state"],
        doc.get("title"),
        None,
        None,
        iso(doc["createdAt"]),
        iso(doc["updatedAt"]),
        iso_or_none(doc.get("validatedAt")),
        bool(doc.get("synchronized")),
        iso_or_none(doc.get("synchronizedAt")),
        doc.get("lastError"),
        *(patient.get(k) for k in EMBEDDED_PATIENT),
    )
