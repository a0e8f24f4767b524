"""Control calls that change the mock: documents, Synchronize, notes, clock, device approval, reset.

Each one does what a clinician (or time) does on the real platform, so a harness or a support
engineer can replay a story: write a document, validate it, press Synchronize, let an hour pass.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server import domain
from mock_server.api.oauth.device import approve_device_code
from mock_server.control.common import context, optional_json
from mock_server.control.views import clock_state
from mock_server.core.context import MockContext
from mock_server.core.errors import NotFound, ValidationFailed, Violation
from mock_server.core.store import Record
from mock_server.domain.seed import seed_store
from mock_server.web.http import json_response

KEPT_ON_RESET = ("meta", "clients", "actions")
"""The action feed survives a reset: `askara-mock record` follows it (and records the reset as skipped)."""


def routes() -> list[BaseRoute]:
    return [
        Route("/_mock/documents", create_document, methods=["POST"]),
        Route("/_mock/documents/{uuid}/validate", validate_document, methods=["POST"]),
        Route("/_mock/documents/{uuid}/synchronize", synchronize_document, methods=["POST"]),
        Route("/_mock/notes", create_note, methods=["POST"]),
        Route("/_mock/clock/advance", advance_clock, methods=["POST"]),
        Route("/_mock/device/approve", approve_device, methods=["POST"]),
        Route("/_mock/reset", reset, methods=["POST"]),
    ]


async def create_document(request: Request) -> Response:
    """A draft document (Faker data unless given); ``validate: true`` also fires ``new_document``."""
    ctx = context(request)
    body = await optional_json(request, "control-document")
    patient = _patient(ctx, body)
    overrides: dict[str, Any] = {key: body[key] for key in ("type", "title") if key in body}
    doc = domain.new_document(ctx, patient_uuid=patient, overrides=overrides or None)
    event = domain.validate_document(ctx, doc) if body.get("validate") else None
    return _document_answer(ctx, doc["uuid"], event, 201)


async def validate_document(request: Request) -> Response:
    """The clinician validates the document: ``new_document`` fires; 409 if it already was."""
    ctx = context(request)
    doc = ctx.store.documents.require(request.path_params["uuid"], "Document")
    event = domain.validate_document(ctx, doc)
    return _document_answer(ctx, doc["uuid"], event, 200)


async def synchronize_document(request: Request) -> Response:
    """The Synchronize button: ``document_synchronize``, at most once per cooldown per document."""
    ctx = context(request)
    doc = ctx.store.documents.require(request.path_params["uuid"], "Document")
    event = domain.synchronize_document(ctx, doc)
    return _document_answer(ctx, doc["uuid"], event, 200)


async def create_note(request: Request) -> Response:
    """A note as if generated from a fresh audio transcription: fires ``new_note``."""
    ctx = context(request)
    body = await optional_json(request, "control-note")
    patient = _patient(ctx, body)
    overrides: dict[str, Any] = {key: body[key] for key in ("type", "content") if key in body}
    note, event = domain.new_note(ctx, patient_uuid=patient, overrides=overrides or None)
    return json_response({"note": domain.public_note(ctx, note), "event": event}, 201)


async def advance_clock(request: Request) -> Response:
    ctx = context(request)
    body = await optional_json(request, "clock-advance")
    ctx.clock.advance(float(body["seconds"]))
    if body.get("wait"):
        await ctx.timers.settle()
    return json_response(clock_state(request))


async def approve_device(request: Request) -> Response:
    """Approve a device-flow user code, as the clinician does on the verification page."""
    ctx = context(request)
    body = await optional_json(request, "control-device-approve")
    approve_device_code(ctx, body["user_code"])
    return json_response({"approved": True, "user_code": body["user_code"]})


async def reset(request: Request) -> Response:
    """Back to the seeded state: same seed, same data; the clock keeps going (it never goes back)."""
    ctx = context(request)
    for name, table in ctx.store.tables.items():
        if name not in KEPT_ON_RESET:
            table.clear()
            table.dropped = 0
    seed_store(ctx)
    ctx.rate_limiter.reset()
    for hook in ctx.reset_hooks:
        hook()
    counts = {name: len(table) for name, table in ctx.store.tables.items() if name not in KEPT_ON_RESET}
    return json_response({"reset": True, "counts": counts, "clock": clock_state(request)})


# -- helpers -----------------------------------------------------------------------------------


def _patient(ctx: MockContext, body: dict[str, Any]) -> str | None:
    patient = body.get("patient")
    if patient is not None and ctx.store.patients.get(patient) is None:
        message = f"No patient has the uuid {patient!r}."
        raise ValidationFailed(f"patient: {message}", violations=[Violation("patient", message, "exists")])
    return patient


def _document_answer(ctx: MockContext, key: str, event: Record | None, status: int) -> Response:
    doc = ctx.store.documents.get(key)
    if doc is None:
        raise NotFound(f'Document "{key}" not found.')
    return json_response({"document": domain.public_document(ctx, doc), "event": event}, status)
