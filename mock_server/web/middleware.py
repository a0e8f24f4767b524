"""One pure-ASGI layer in front of every route: rate limit, journal, API faults, assumptions relied on.

Kept as raw ASGI (not BaseHTTPMiddleware) because it runs on every request of the hot path.
Control calls (``/_mock``) pass straight through: polling the journal must not fill it. An answer
that rested on assumptions (:func:`mock_server.core.assumptions.rely`) names them in the
``X-Askara-Mock-Assumptions`` header and in its journal entry, and counts in ``ctx.assumption_usage``.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.core.assumptions import HEADER as ASSUMPTIONS_HEADER
from mock_server.core.assumptions import FirstUse, relied_on
from mock_server.core.context import MockContext
from mock_server.core.errors import ProblemError, TooManyRequests
from mock_server.web.capture import Capture
from mock_server.web.http import problem_response
from mock_server.web.origins import reached_files

PAGE_PATHS = ("/openapi.json", "/authorize", "/device", "/favicon.ico", "/")


def classify(path: str) -> str:
    """Which part of the API origin's surface a path belongs to: control, oauth, page or api.

    Everything on the files origin is a ``download`` (:func:`mock_server.web.origins.reached_files`).
    """
    if path.startswith("/_mock"):
        return "control"
    if path.startswith("/oauth2/"):
        return "oauth"
    if path in PAGE_PATHS or path.startswith("/authorize") or path.startswith("/device"):
        return "page"
    return "api"


class ApiMiddleware:
    def __init__(self, app: ASGIApp, context: MockContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        kind = "download" if reached_files(scope, self.context.settings) else classify(path)
        if kind == "control":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        ctx = self.context
        note: dict[str, Any] = scope.setdefault("askara.note", {})
        capture = Capture(scope, ctx.settings.har_body_bytes)
        scope["askara.capture"] = capture
        receive, send = capture.receive(receive), capture.send(send)
        extra_headers: list[tuple[bytes, bytes]] = []
        if kind == "api" and ctx.rate_limiter.enabled:
            key = self._bucket_key(scope)
            note["bucket"] = key
            decision = ctx.rate_limiter.take(key)
            extra_headers = decision.headers()
            if not decision.allowed:
                note["retry_after"] = decision.retry_after
                error = TooManyRequests(
                    f"Rate limit exceeded for {key}: {decision.limit} requests, "
                    f"{ctx.rate_limiter.refill} more every {ctx.rate_limiter.interval} s. "
                    f"Retry after {decision.retry_after} s.",
                    retry_after=decision.retry_after,
                )
                await self._reply(scope, receive, send, error, extra_headers, started, kind)
                return
        if kind in ("api", "download", "oauth"):
            handled = await ctx.api_faults(scope, receive, send, extra_headers, started)
            if handled is not None:
                self._journal(scope, handled, started, kind)
                return
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                relied = relied_on(scope)
                if extra_headers or relied:
                    message["headers"] = list(message.get("headers", [])) + extra_headers
                if relied:
                    message["headers"].append((ASSUMPTIONS_HEADER.lower().encode(), ", ".join(relied).encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self._journal(scope, status, started, kind)

    def _bucket_key(self, scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == b"authorization":
                kind, _, token = value.decode("latin-1").partition(" ")
                if kind.lower() == "bearer":
                    client = self.context.tokens.peek_client(token.strip())
                    if client is not None:
                        return f"client:{client}"
                break
        client_addr = scope.get("client")
        return f"anonymous:{client_addr[0] if client_addr else 'unknown'}"

    async def _reply(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        error: ProblemError,
        extra_headers: list[tuple[bytes, bytes]],
        started: float,
        kind: str,
    ) -> None:
        response = problem_response(Request(scope, receive), error)
        response.raw_headers.extend(extra_headers)
        await response(scope, receive, send)
        self._journal(scope, error.status, started, kind)

    def _journal(self, scope: Scope, status: int, started: float, kind: str) -> None:
        ctx = self.context
        note = scope.get("askara.note", {})
        entry_id = ctx.next_journal_id()
        user_agent = ""
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
                break
        now = ctx.clock.now()
        relied = relied_on(scope)
        if relied:
            note = {**note, "assumptions": relied}
            ctx.assumption_usage.record(relied, FirstUse(entry_id, scope["method"], scope["path"], now))
        capture = scope.get("askara.capture")
        if isinstance(capture, Capture):
            ctx.store.exchanges.put(str(entry_id), {"id": entry_id, **capture.record(scope)})
        ctx.store.journal.put(
            str(entry_id),
            {
                "id": entry_id,
                "at": now,
                "wall": time.time(),
                "kind": kind,
                "method": scope["method"],
                "path": scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "status": status,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                "user_agent": user_agent,
                **note,
            },
        )
