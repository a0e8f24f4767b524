"""``GET /_mock/har`` (the two-way transcript), ``GET /_mock/actions`` (the control actions taken),
and ``GET /_mock/bundle`` (both, with a manifest, as a reproduction bundle).

Both are for support: the HAR file opens in a browser's DevTools (Network panel, import), the
actions feed is what ``askara-mock record`` turns into a scenario. The HAR is redacted unless
``?redact=false`` (:mod:`mock_server.support.redact`).

``importlib.metadata`` is imported by :func:`tool_version`, the one call that needs it: it was
~6.5 ms of ``serve``'s ~200 ms start-up, for exports a mock may never be asked for.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.control.common import context, query_bool
from mock_server.control.paging import by_id, page, since_of
from mock_server.core.context import MockContext
from mock_server.core.snapshot import shareable
from mock_server.core.snapshot import take as take_snapshot
from mock_server.support.bundle import Bundle, public_settings, write_bundle
from mock_server.support.har import build_har
from mock_server.support.redact import redactor_for
from mock_server.support.story import Story
from mock_server.web.http import json_response


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("askara-mock")
    except PackageNotFoundError:  # pragma: no cover - running from a tree without metadata
        return "unknown"


def har_document(ctx: MockContext, *, redact: bool = True) -> dict[str, Any]:
    """The transcript of everything this mock still remembers, as HAR 1.2."""
    store = ctx.store
    exchanges = {int(record["id"]): record for record in store.exchanges}
    return build_har(
        store.journal,
        exchanges,
        store.deliveries,
        base_url=ctx.settings.base_url,
        version=tool_version(),
        redactor=redactor_for(ctx, enabled=redact),
        dropped={"journal": store.journal.dropped, "deliveries": store.deliveries.dropped},
    )


async def har(request: Request) -> Response:
    """The HAR file; ``redact=false`` keeps secrets and patients' names (it says so in ``log.comment``)."""
    ctx = context(request)
    redact = query_bool(request, "redact")
    document = har_document(ctx, redact=redact is not False)
    headers = {"Content-Disposition": 'attachment; filename="askara-mock.har"'}
    return json_response(document, headers=headers)


async def actions(request: Request) -> Response:
    """The control actions taken, oldest first: ``{items, last_id, dropped}``; ``since=ID`` pages on."""
    return json_response(page(context(request).store.actions, since_of(request), cursor=by_id)[0])


def story_of(ctx: MockContext) -> Story:
    """The control actions taken on this mock as a scenario, with waits where it was answered."""
    story = Story(name="bundle", seed=ctx.settings.seed)
    reported = {str(r.get("document_uuid")) for r in ctx.store.status_reports}
    for action in ctx.store.actions:
        story.add(action)
        story.answered({u for u in reported if u in story.names})
    return story


async def bundle(request: Request) -> Response:
    """``GET /_mock/bundle``: the reproduction bundle of this mock (zip), redacted unless ``redact=false``.

    The mock alone judges nothing: the bundle holds no ``report.json`` (``conformance run --bundle``
    adds one). Its ``snapshot.json`` is the state at the story's start (``MockContext.story_start``: kept at
    start-up, reset and snapshot load), redacted too; the state at export when that was too big to keep."""
    ctx = context(request)
    redact = query_bool(request, "redact") is not False
    story = story_of(ctx)
    at_start = ctx.story_start is not None
    taken = ctx.story_start if ctx.story_start is not None else take_snapshot(ctx)
    snapshot = shareable(taken) if redact else taken
    manifest = {
        "tool": "askara-mock",
        "version": tool_version(),
        "produced_by": "GET /_mock/bundle",
        "seed": ctx.settings.seed,
        "mode": "webhook" if ctx.store.webhooks.values() else "polling",
        "settings": public_settings(dataclasses.asdict(ctx.settings)),
        "not_recorded": story.skipped,
        "left_out": {
            "report.json": "the mock alone does not judge; conformance run --bundle writes one with the verdicts",
        },
        "snapshot": ("the state at the story's start (start-up, the last reset or snapshot load); "
                     if at_start else "the state at export (the state was too big to keep a copy of its start); ")
        + ("redacted: codes and refresh tokens left out, it loads and the integration signs in again" if redact
           else "NOT redacted"),
    }
    data = write_bundle(
        Bundle(manifest, scenario=story.scenario(), har=har_document(ctx, redact=redact), snapshot=snapshot),
        redactor_for(ctx, enabled=redact),
    )
    headers = {"Content-Disposition": 'attachment; filename="askara-mock-bundle.zip"'}
    return Response(data, media_type="application/zip", headers=headers)


def routes() -> list[BaseRoute]:
    return [
        Route("/_mock/bundle", bundle, methods=["GET"]),
        Route("/_mock/har", har, methods=["GET"]),
        Route("/_mock/actions", actions, methods=["GET"]),
    ]
