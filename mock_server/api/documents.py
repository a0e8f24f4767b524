"""``/documents``: the validated documents, and the integration's status reports.

Only ``verified`` documents exist for the public API: a draft is still being written in
Askara, so it is neither listed nor readable (404). ``POST /documents/{uuid}/status`` answers
200 with the document as it now is, the way an API Platform custom operation returns its
resource; every report is kept for the control API.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.api.oauth.guard import authenticate
from mock_server.core.assumptions import DOCUMENT_EXTRA_FIELDS, DOCUMENT_STATUS_ANSWER, rely, served_form
from mock_server.core.context import MockContext
from mock_server.core.errors import NotFound
from mock_server.core.store import Record
from mock_server.domain.datagen import now_int
from mock_server.domain.documents import public_document
from mock_server.domain.links import signing_second
from mock_server.web import indexed
from mock_server.web.collections import CollectionSpec, IndexedSource, collection_response, item_response, path_uuid
from mock_server.web.filters import field_of
from mock_server.web.http import read_json
from mock_server.web.indexed import NOT_LISTED

READ_SCOPE = "read:documents"
WRITE_SCOPE = "write:document_integrations"
SPEC = CollectionSpec(
    resource="Document",
    path="/documents",
    exact={
        "uuid": lambda d: d["uuid"],
        "type": lambda d: d["type"],
        "patient": lambda d: d["patient"]["uuid"],
        "patient.externalId": lambda d: d["patient"].get("externalId"),
    },
    uuid_filters=frozenset({"uuid"}),
    booleans={"synchronized": lambda d: d.get("synchronized")},
    dates={name: field_of(name) for name in ("createdAt", "updatedAt", "validatedAt", "synchronizedAt")},
    order={name: field_of(name) for name in ("createdAt", "updatedAt", "validatedAt", "synchronizedAt")},
    relations={"patient": "/patients/"},
    documented=frozenset({"synchronized"}),
    extras_assumption="document-filters",
    indexed=frozenset({"uuid", "type", "patient", "patient.externalId", "synchronized"}),
)
"""The guide documents only ``synchronized``; the rest follows API Platform (DateFilter operators, as /notes)."""


def routes() -> list[BaseRoute]:
    return [
        Route("/documents", list_documents, methods=["GET"]),
        Route("/documents/{uuid}", get_document, methods=["GET"]),
        Route("/documents/{uuid}/status", report_status, methods=["POST"]),
    ]


def warm_views(ctx: MockContext) -> None:
    """Build the sorted views of the plain list and of ``synchronized=`` (what an importer polls) at start-up."""
    indexed.warm_views(SPEC, _source(ctx, None), ((), [("synchronized", "false")]))


def _source(ctx: MockContext, organization: str | None) -> IndexedSource:
    """The list as the store's sorted views of one organization."""
    return IndexedSource(ctx.store.documents, "verified-by-organization", _listed_under, organization)


def visible_documents(ctx: MockContext, organization_id: str | None) -> list[Record]:
    return list(_visible(ctx, organization_id))


def _visible(ctx: MockContext, organization_id: str | None) -> Iterator[Record]:
    """Lazy: a list served from the body cache or the sorted views never scans the store."""
    for d in ctx.store.documents:
        if d.get("state") == "verified" and d.get("_organization_id") == organization_id:
            yield d


def _listed_under(document: Record) -> object:
    """The organization whose clients list ``document``; a draft is never listed."""
    return document.get("_organization_id") if document.get("state") == "verified" else NOT_LISTED


def _organization_of(ctx: MockContext, user_id: str) -> str | None:
    user = ctx.store.users.get(user_id)
    return user.get("_organization_id") if user else None


def _require_visible(ctx: MockContext, request: Request, user_id: str) -> Record:
    key = path_uuid(request, "Document")
    doc = ctx.store.documents.get(key)
    if doc is None or doc.get("state") != "verified" or doc.get("_organization_id") != _organization_of(ctx, user_id):
        raise NotFound(f'Document "{key}" not found.')
    return doc


async def list_documents(request: Request) -> Response:
    token = authenticate(request, READ_SCOPE)
    ctx: MockContext = request.app.state.mock
    organization = _organization_of(ctx, token.user_id)
    # One expiry for the whole page, fixed before the cache lookup: the body cached for this
    # signing second holds exactly the links a fresh build would sign now. Any write to the documents
    # table (a status report, the control API) bumps its version and so misses the cache.
    expires = ctx.clock.now() + ctx.settings.pdf_url_ttl
    key = (organization, ctx.store.documents.version, signing_second(ctx, expires))
    shape = served_form(request.scope, DOCUMENT_EXTRA_FIELDS, ctx.settings.documented_only)
    return collection_response(
        request,
        SPEC,
        _visible(ctx, organization),
        lambda d: shape(public_document(ctx, d, expires_at=expires)),
        cache_key=key,
        source=_source(ctx, organization),
    )


async def get_document(request: Request) -> Response:
    token = authenticate(request, READ_SCOPE)
    ctx: MockContext = request.app.state.mock
    doc = _require_visible(ctx, request, token.user_id)
    shape = served_form(request.scope, DOCUMENT_EXTRA_FIELDS, ctx.settings.documented_only)
    return item_response(request, SPEC, doc["uuid"], shape(public_document(ctx, doc)))


async def report_status(request: Request) -> Response:
    """Success marks the document synchronized; failure records the error and leaves it unsynchronized."""
    token = authenticate(request, WRITE_SCOPE)
    ctx: MockContext = request.app.state.mock
    doc = _require_visible(ctx, request, token.user_id)
    body: dict[str, Any] = await read_json(request, "status-report")
    now = now_int(ctx)
    report = {
        "id": uuid.uuid4().hex,
        "document_uuid": doc["uuid"],
        "success": body["success"],
        "error": body.get("error"),
        "directory": body.get("directory"),
        "path": body.get("path"),
        "at": ctx.clock.now(),
        "wall": time.time(),
        "client_id": token.client_id,
        "token_jti": token.jti,
        "body": body,
    }
    ctx.store.status_reports.put(report["id"], report)
    if body["success"]:
        doc.update({"synchronized": True, "synchronizedAt": now, "lastError": None, "updatedAt": now})
    else:
        error = body.get("error") or "(no error message given)"
        doc.update({"synchronized": False, "lastError": error, "updatedAt": now})
    ctx.store.documents.put(doc["uuid"], doc)
    request.scope.setdefault("askara.note", {}).update({"document_uuid": doc["uuid"], "status_report": report["id"]})
    rely(request.scope, DOCUMENT_STATUS_ANSWER.id)
    shape = served_form(request.scope, DOCUMENT_EXTRA_FIELDS, ctx.settings.documented_only)
    return item_response(request, SPEC, doc["uuid"], shape(public_document(ctx, doc)))
