"""The control-action feed: every ``/_mock`` call that changes something, kept in ``store.actions``.

A pure-ASGI layer in front of the control routes (the journal middleware lets ``/_mock`` through
untouched). Each non-GET control call that reached a route is kept with its body and the mock's
answer (both parsed JSON, cut at ``FEED_BODY_BYTES``), the mock time before it ran and the
status: that is what ``askara-mock record`` turns into scenario steps (``GET /_mock/actions``).
``POST /_mock/credentials`` is setup, not a story step, and is not kept.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.core.context import MockContext

FEED_BODY_BYTES = 65_536
READS = ("GET", "HEAD", "OPTIONS")
NOT_STORY = ("/_mock/credentials",)


def _parsed(raw: bytes) -> Any:
    if not raw or len(raw) >= FEED_BODY_BYTES:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


class ActionFeed:
    def __init__(self, app: ASGIApp, context: MockContext) -> None:
        self.app = app
        self.context = context
        self._ids = itertools.count(max((int(a["id"]) for a in context.store.actions), default=0) + 1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith("/_mock")
            or scope["method"] in READS
            or path.rstrip("/") in NOT_STORY
        ):
            await self.app(scope, receive, send)
            return
        ctx = self.context
        at, wall = ctx.clock.now(), time.time()
        body, answer = bytearray(), bytearray()
        status = 500

        async def receive_copy() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) < FEED_BODY_BYTES:
                body.extend(message.get("body", b"")[: FEED_BODY_BYTES - len(body) + 1])
            return message

        async def send_copy(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and len(answer) < FEED_BODY_BYTES:
                answer.extend(message.get("body", b"")[: FEED_BODY_BYTES - len(answer) + 1])
            await send(message)

        try:
            await self.app(scope, receive_copy, send_copy)
        finally:
            action_id = next(self._ids)
            ctx.store.actions.put(
                str(action_id),
                {
                    "id": action_id,
                    "at": at,
                    "wall": wall,
                    "method": scope["method"],
                    "path": path,
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "body": _parsed(bytes(body)),
                    "status": status,
                    "answer": _parsed(bytes(answer)),
                },
            )
