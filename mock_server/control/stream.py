"""``GET /_mock/stream``: server-sent events that tell the web page the mock changed, so it reloads.

Each event carries only the change feed's version (:mod:`mock_server.core.changes`): the page
reads what it shows from the control API, as it does on load, so the stream never has to say
what changed. The stream waits on the feed (no polling): an idle mock sends only a comment every
:data:`KEEPALIVE` seconds, which keeps proxies from closing a quiet connection. A busy mock (a
thousand deliveries a second) sends at most one event per :data:`MIN_GAP` seconds per page.
The stream ends when the server stops (``MockContext.closing``), so a stop never waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from mock_server.control.common import context
from mock_server.core.changes import Changes

KEEPALIVE = 15.0
MIN_GAP = 0.2
RETRY_MS = 2000
"""How long a browser waits before reconnecting a stream that ended (the SSE ``retry`` field)."""


def routes() -> list[BaseRoute]:
    return [Route("/_mock/stream", stream, methods=["GET"])]


async def stream(request: Request) -> Response:
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(context(request).changes), media_type="text/event-stream", headers=headers)


async def events(changes: Changes) -> AsyncIterator[str]:
    """``hello`` with the current version, then ``change`` each time it moves, until the feed closes."""
    seen = changes.version
    yield f"retry: {RETRY_MS}\nevent: hello\ndata: {seen}\n\n"
    while not changes.closed:
        version = await changes.wait(seen, timeout=KEEPALIVE)
        if changes.closed:
            return
        if version == seen:
            yield ": keep-alive\n\n"
            continue
        seen = version
        yield f"event: change\ndata: {version}\n\n"
        await asyncio.sleep(MIN_GAP)  # what changes meanwhile goes in the next event
