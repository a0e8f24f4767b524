"""Read-only control calls: credentials, clock, status reports, journal, events, documents, notes.

These show the mock's raw records (internal ``_`` keys included) because their readers are the
harness, the CLI and the web page, which need the state the public API hides. Every listing has
the page shape of :mod:`.paging` (``items``, ``last_id``, ``dropped``; ``?since=ID``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.api.webhook_urls import url_warnings
from mock_server.control.common import context, optional_json, query_bool, query_choice, query_int, query_uuid
from mock_server.control.paging import by_id, page, since_of
from mock_server.core.errors import BadRequest, Conflict, Violation
from mock_server.core.timefmt import iso
from mock_server.core.tokens import KNOWN_SCOPES, parse_scope
from mock_server.core.vocabulary import JOURNAL_KINDS
from mock_server.web.http import json_response


def routes() -> list[BaseRoute]:
    return [
        Route("/_mock/credentials", credentials, methods=["GET", "POST"]),
        Route("/_mock/clock", clock, methods=["GET"]),
        Route("/_mock/status-reports", status_reports, methods=["GET"]),
        Route("/_mock/journal", journal, methods=["GET"]),
        Route("/_mock/events", events, methods=["GET"]),
        Route("/_mock/documents", documents, methods=["GET"]),
        Route("/_mock/documents/{uuid}", document, methods=["GET"]),
        Route("/_mock/notes", notes, methods=["GET"]),
        Route("/_mock/webhooks", webhooks, methods=["GET"]),
    ]


async def credentials(request: Request) -> Response:
    """What an integration needs to start, with a refresh token freshly issued by this call.

    Refresh tokens are single-use and rotate, so each call issues a new family: two harness runs
    never fight over one token. ``POST`` with ``{"refresh_token": "..."}`` registers a token an
    already-running integration was configured with (same answer otherwise).
    """
    ctx = context(request)
    given: str | None = None
    scope_text = request.query_params.get("scope")
    if request.method == "POST":
        body = await optional_json(request, "control-credentials")
        given = body.get("refresh_token")
        scope_text = body.get("scope", scope_text)
        if given is not None and given in ctx.store.refresh_tokens:
            message = "This refresh token is already registered; a refresh token is single-use."
            raise Conflict(message)
    scopes = list(KNOWN_SCOPES)
    if scope_text is not None:
        scopes = parse_scope(scope_text)
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown or not scopes:
            message = f"Unknown scope {unknown[0]!r}; known scopes: {' '.join(KNOWN_SCOPES)}." if unknown else (
                "The scope parameter is empty; give space-separated scopes or leave it out."
            )
            raise BadRequest(message, violations=[Violation("scope", message, "query")])
    users = ctx.store.users.values()
    if not users:
        raise Conflict("No clinician is seeded in this mock, so no refresh token can be issued.")
    base = ctx.settings.base_url
    pair = ctx.tokens.issue_pair(ctx.settings.client_id, users[0]["uuid"], scopes, refresh_token=given)
    return json_response(
        {
            "client_id": ctx.settings.client_id,
            "client_secret": ctx.client_secret,
            "webhook_secret": ctx.webhook_secret,
            "api_url": base,
            "token_url": f"{base}/oauth2/token",
            "authorize_url": f"{base}/authorize",
            "redirect_uris": list(ctx.settings.redirect_uris),
            "user_id": users[0]["uuid"],
            "scope": " ".join(scopes),
            "refresh_token": pair["refresh_token"],
            "access_token": pair["access_token"],
            "expires_in": pair["expires_in"],
        }
    )


def dropped_header(count: int) -> dict[str, str]:
    """Array listings say in a header how many old records the bounded table has dropped."""
    return {"X-Askara-Mock-Dropped": str(count)}


def clock_state(request: Request) -> dict[str, object]:
    ctx = context(request)
    state = ctx.clock.describe()
    state["iso"] = iso(ctx.clock.now())
    state["pending_timers"] = len(ctx.timers.pending())
    return state


async def clock(request: Request) -> Response:
    return json_response(clock_state(request))


async def status_reports(request: Request) -> Response:
    ctx = context(request)
    wanted = query_uuid(request, "document")
    body, _ = page(ctx.store.status_reports, since_of(request), lambda r: wanted in (None, r.get("document_uuid")))
    return json_response(body, headers=dropped_header(ctx.store.status_reports.dropped))


async def journal(request: Request) -> Response:
    """Every request answered, oldest first; ``since`` + ``limit`` page through it without gaps.

    ``entries`` repeats ``items`` (the harness's idle wait reads it) and ``truncated`` says ``limit`` cut the page."""
    ctx = context(request)
    since = since_of(request)
    limit = query_int(request, "limit", minimum=1, maximum=100_000)
    kind = query_choice(request, "kind", JOURNAL_KINDS)
    prefix = request.query_params.get("path") or ""
    body, truncated = page(
        ctx.store.journal, since, lambda e: (kind is None or e["kind"] == kind) and e["path"].startswith(prefix),
        limit=limit, cursor=by_id,
    )
    return json_response({**body, "entries": body["items"], "truncated": truncated})


async def events(request: Request) -> Response:
    ctx = context(request)
    action = query_choice(request, "action", ("new_document", "document_synchronize", "new_note"))
    resource = request.query_params.get("id")

    def keep(e: dict[str, Any]) -> bool:
        return action in (None, e["payload"]["action"]) and resource in (None, "", e["payload"]["id"])

    body, _ = page(ctx.store.events, since_of(request), keep)
    return json_response(body, headers=dropped_header(ctx.store.events.dropped))


async def documents(request: Request) -> Response:
    ctx = context(request)
    state = query_choice(request, "state", ("draft", "verified"))
    synchronized = query_bool(request, "synchronized")

    def keep(d: dict[str, Any]) -> bool:
        return (state is None or d.get("state") == state) and (
            synchronized is None or bool(d.get("synchronized")) == synchronized
        )

    return json_response(page(ctx.store.documents, since_of(request), keep)[0])


async def document(request: Request) -> Response:
    ctx = context(request)
    return json_response(ctx.store.documents.require(request.path_params["uuid"], "Document"))


async def notes(request: Request) -> Response:
    return json_response(page(context(request).store.notes, since_of(request))[0])


async def webhooks(request: Request) -> Response:
    """The records, each with ``warnings`` its URL deserves (plain http off loopback)."""
    body, _ = page(context(request).store.webhooks, since_of(request))
    body["items"] = [{**w, "warnings": url_warnings(str(w.get("url")))} for w in body["items"]]
    return json_response(body)
