"""``/webhooks``: register, list, read, replace, merge-patch and delete webhook subscriptions.

Askara documents only the create body (``url``, ``events``, ``active``); the rest follows API
Platform 3 conventions (201 with the resource, PUT replaces, PATCH takes
``application/merge-patch+json``, DELETE answers 204). Webhooks belong to an organization
(Askara's ``organization.read_webhooks`` group), so every call needs the ``organization`` scope
and only sees its organization's webhooks. Delivery itself is the sender's job
(:mod:`mock_server.sender`); this module tells it about changes (``ctx.sender``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.api.oauth.guard import authenticate
from mock_server.api.webhook_urls import warning_headers
from mock_server.core.assumptions import WEBHOOK_CREATE_ANSWER, WEBHOOK_CRUD, WEBHOOK_SCOPE, rely
from mock_server.core.context import MockContext
from mock_server.core.errors import ConfigError, NotFound, UnsupportedMediaType, ValidationFailed, Violation
from mock_server.core.store import Record
from mock_server.core.timefmt import iso
from mock_server.core.tokens import AccessToken
from mock_server.core.vocabulary import EVENT_NAMES
from mock_server.domain.datagen import fresh_uuid
from mock_server.web.collections import CollectionSpec, collection_response, item_response, path_uuid
from mock_server.web.filters import field_of
from mock_server.web.http import read_json
from mock_server.web.validation import validate

SCOPE = "organization"
MERGE_PATCH = "application/merge-patch+json"


def _then_creation_order(name: str) -> Callable[[Record], tuple[Any, int]]:
    """Order by ``name``, then by creation order (uuids are random, times are whole seconds)."""
    return lambda webhook: (webhook.get(name), webhook.get("_seq", 0))


SPEC = CollectionSpec(
    resource="Webhook",
    path="/webhooks",
    exact={"url": lambda w: w.get("url")},
    booleans={"active": lambda w: w.get("active")},
    dates={name: field_of(name) for name in ("createdAt", "updatedAt")},
    # creation order breaks ties inside one second (uuids are random)
    order={name: _then_creation_order(name) for name in ("createdAt", "updatedAt")},
)


def routes() -> list[BaseRoute]:
    return [
        Route("/webhooks", list_webhooks, methods=["GET"], name="webhooks_list"),
        Route("/webhooks", create_webhook, methods=["POST"], name="webhooks_create"),
        Route("/webhooks/{uuid}", get_webhook, methods=["GET"], name="webhooks_get"),
        Route("/webhooks/{uuid}", replace_webhook, methods=["PUT"], name="webhooks_replace"),
        Route("/webhooks/{uuid}", patch_webhook, methods=["PATCH"], name="webhooks_patch"),
        Route("/webhooks/{uuid}", delete_webhook, methods=["DELETE"], name="webhooks_delete"),
    ]


# -- endpoints ---------------------------------------------------------------------------------


async def list_webhooks(request: Request) -> Response:
    rely(request.scope, WEBHOOK_CRUD.id)
    ctx, token = _auth(request)
    org = organization_of(ctx, token.user_id)
    records = [w for w in ctx.store.webhooks if w.get("_organization_id") == org]
    return collection_response(request, SPEC, records, public_webhook)


async def create_webhook(request: Request) -> Response:
    rely(request.scope, WEBHOOK_CREATE_ANSWER.id)
    ctx, token = _auth(request)
    body = await read_json(request, "webhook")
    record = new_webhook(ctx, body, organization_id=organization_of(ctx, token.user_id), client_id=token.client_id)
    return _item(request, record, 201, headers={"Location": SPEC.iri(record["uuid"])})


async def get_webhook(request: Request) -> Response:
    rely(request.scope, WEBHOOK_CRUD.id)
    ctx, token = _auth(request)
    return _item(request, _find(ctx, token, request))


async def replace_webhook(request: Request) -> Response:
    rely(request.scope, WEBHOOK_CRUD.id)
    ctx, token = _auth(request)
    record = _find(ctx, token, request)
    body = await read_json(request, "webhook")
    _check_url(body["url"])
    record.update(url=body["url"], events=list(body["events"]), active=body.get("active", True))
    return await _save(request, ctx, record)


async def patch_webhook(request: Request) -> Response:
    rely(request.scope, WEBHOOK_CRUD.id)
    ctx, token = _auth(request)
    record = _find(ctx, token, request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != MERGE_PATCH:
        raise UnsupportedMediaType(
            f'The content-type "{content_type or "(none)"}" is not supported for PATCH. '
            f'Supported MIME types are "{MERGE_PATCH}".'
        )
    patch = await read_json(request, "webhook-patch")
    if "url" in patch:
        _check_url(patch["url"])
    for name in ("url", "events", "active"):
        if name in patch:
            record[name] = list(patch[name]) if name == "events" else patch[name]
    return await _save(request, ctx, record)


async def delete_webhook(request: Request) -> Response:
    rely(request.scope, WEBHOOK_CRUD.id)
    ctx, token = _auth(request)
    record = _find(ctx, token, request)
    ctx.store.webhooks.delete(record["uuid"])
    ctx.sender.on_webhook_deleted(record["uuid"])
    return Response(status_code=204)


# -- creation, shared with ``serve --webhook-url`` ---------------------------------------------


def new_webhook(ctx: MockContext, body: Record, *, organization_id: str | None, client_id: str) -> Record:
    """Store the webhook a create body (already valid against ``webhook.schema.json``) describes,
    exactly as ``POST /webhooks`` does, and tell the sender."""
    _check_url(body["url"])
    now = int(ctx.clock.now())
    record: Record = {
        "uuid": fresh_uuid(ctx, "webhooks"),
        "url": body["url"],
        "events": list(body["events"]),
        "active": body.get("active", True),
        "createdAt": now,
        "updatedAt": now,
        "_organization_id": organization_id,
        "_client_id": client_id,
        "_seq": max((int(w.get("_seq", 0)) for w in ctx.store.webhooks), default=0) + 1,
    }
    ctx.store.webhooks.put(record["uuid"], record)
    ctx.sender.on_webhook_changed(record["uuid"])
    return record


def register_start_webhooks(ctx: MockContext) -> None:
    """``serve --webhook-url URL``: a webhook of the seeded organization for every event, created
    as ``POST /webhooks`` would (same schema, same checks, same record). A URL the organization
    already has a webhook for (state restored with ``--state``) is left as it is."""
    users = ctx.store.users.values()
    organization = organization_of(ctx, users[0]["uuid"] if users else "")
    for url in ctx.settings.webhook_urls:
        if any(w.get("url") == url and w.get("_organization_id") == organization for w in ctx.store.webhooks):
            continue
        body: Record = {"url": url, "events": list(EVENT_NAMES)}
        refused = [v.message for v in validate("webhook", body) if v.property_path == "url"]
        if refused:
            raise ConfigError(f"--webhook-url {url!r}: {refused[0]}")
        try:
            new_webhook(ctx, body, organization_id=organization, client_id=ctx.settings.client_id)
        except ValidationFailed as exc:
            raise ConfigError(f"--webhook-url {url!r}: {exc.violations[0].message}") from None


# -- helpers -----------------------------------------------------------------------------------


def public_webhook(record: Record) -> Record:
    """What the API serves: the record without the internal ``_`` keys, times in ISO 8601."""
    body = {key: value for key, value in record.items() if not key.startswith("_")}
    for name in ("createdAt", "updatedAt"):
        if isinstance(body.get(name), int | float):
            body[name] = iso(body[name])
    return body


def organization_of(ctx: MockContext, user_id: str) -> str | None:
    """The organization a user works in; the seeded organization when the user record says nothing."""
    user = ctx.store.users.get(user_id) or {}
    for candidate in (user.get("_organization_id"), (user.get("organization") or {}).get("uuid")):
        if candidate:
            return str(candidate)
    organizations = ctx.store.organizations.values()
    return str(organizations[0]["uuid"]) if organizations else None


def _auth(request: Request) -> tuple[MockContext, AccessToken]:
    ctx: MockContext = request.app.state.mock
    rely(request.scope, WEBHOOK_SCOPE.id)
    return ctx, authenticate(request, SCOPE)


def _find(ctx: MockContext, token: AccessToken, request: Request) -> Record:
    key = path_uuid(request, "Webhook")
    record = ctx.store.webhooks.get(key)
    if record is None or record.get("_organization_id") != organization_of(ctx, token.user_id):
        raise NotFound(f'Webhook "{key}" not found.')
    return record


async def _save(request: Request, ctx: MockContext, record: Record) -> Response:
    record["updatedAt"] = int(ctx.clock.now())
    ctx.store.webhooks.save(record["uuid"])
    ctx.sender.on_webhook_changed(record["uuid"])
    return _item(request, record)


def _check_url(url: str) -> None:
    """A real host and a port in range: the schema's pattern says so too; kept for a schema edited by hand."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationFailed(
            f"url: {exc}.", violations=[Violation("url", f"This value is not a valid URL ({exc}).", "url")]
        ) from None
    if not parts.hostname or port == 0:
        message = "This value is not a valid URL: an absolute http(s) URL with a host is expected."
        raise ValidationFailed(f"url: {message}", violations=[Violation("url", message, "url")])


def _item(request: Request, record: Record, status: int = 200, *, headers: dict[str, str] | None = None) -> Response:
    if request.method != "GET":  # the answer that stored a plain-http URL off loopback flags it
        headers = {**(headers or {}), **warning_headers(record["url"])}
    return item_response(request, SPEC, record["uuid"], public_webhook(record), status, headers)
