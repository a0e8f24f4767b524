"""The API-side fault kinds, and the hooks they act through.

* ``route``: the next N requests under a path prefix get real latency and/or an error status,
  through the ``ctx.api_faults`` hook the middleware calls.
* ``expire_tokens``: every access token issued so far is expired now.
* ``drain_bucket``: a client's rate-limit bucket is emptied now.
* ``download``: the next N PDF downloads fail, are cut short or wait (``ctx.download_fault`` hook).
* ``expired_link``: the next N document events carry an already-expired PDF link (event transform).
* ``release_delays``: every injected wait in progress (route latency, download delay) ends now.
"""

from __future__ import annotations

import asyncio
import http
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from mock_server.core.context import MockContext
from mock_server.core.errors import ProblemError, TooManyRequests, Unauthorized, ValidationFailed, Violation
from mock_server.core.store import Record
from mock_server.domain.links import signed_pdf_url
from mock_server.faults.registry import active, clear, fault_count, remove, take
from mock_server.web.handlers import bearer_refusal
from mock_server.web.http import problem_response

META_KEY = "faults"
FaultHandler = Callable[[MockContext, dict[str, Any]], dict[str, Any]]


# -- installing the hooks -------------------------------------------------------------------------


def install(ctx: MockContext) -> None:
    """Register the API kinds and the hooks they act through (called once per context)."""
    delays = Delays()
    ctx.fault_kinds.update(
        {
            "route": _route_kind,
            "expire_tokens": _expire_tokens_kind,
            "drain_bucket": _drain_bucket_kind,
            "download": _download_kind,
            "expired_link": _counted_kind,
            "release_delays": lambda ctx, body: _release_delays(ctx, delays),
        }
    )
    ctx.api_faults = RouteFaults(ctx, delays)
    ctx.reset_hooks.append(lambda: _clear_all(ctx))
    ctx.reset_hooks.append(delays.release_all)
    ctx.download_fault = _download_fault(ctx, delays)
    ctx.event_transforms.append(_expired_link_transform(ctx))


def _refuse(field: str, message: str, code: str) -> None:
    """A 422 naming ``field`` and the rule, for checks JSON Schema cannot say clearly."""
    raise ValidationFailed(f"{field}: {message}", violations=[Violation(field, message, code)])


def _counted_kind(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"remaining": fault_count(body)}


def _download_kind(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    if "status" in body and body.get("mode") != "error":
        _refuse("status", "Only mode error answers a status (truncate sends a 200 cut short).", "mode")
    if (body.get("mode") == "delay") != ("latency" in body):
        _refuse("latency", "Mode delay needs a latency (real seconds), and only mode delay takes one.", "mode")
    return {"remaining": fault_count(body)}


def _route_kind(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    if not str(body["path"]).startswith("/"):
        _refuse("path", f"The path prefix must start with / (e.g. /documents); got {body['path']!r:.60}.", "pattern")
    if "status" not in body and "latency" not in body:
        _refuse("status", "Give a status, a latency or both; a route fault with neither does nothing.", "required")
    if "retry_after" in body and body.get("status") != 429:
        _refuse("retry_after", "Only an injected 429 (status: 429) carries Retry-After.", "status")
    return {"remaining": fault_count(body)}


def _expire_tokens_kind(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    expired_at = ctx.tokens.expire_all_access_tokens()
    return {"remaining": 0, "applied": {"access_tokens_expired_at": expired_at}}


def _drain_bucket_kind(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    client_id = body.get("client_id") or ctx.settings.client_id
    key = f"client:{client_id}"
    ctx.rate_limiter.drain(key)
    return {"remaining": 0, "params": {"client_id": client_id}, "applied": {"bucket": key}}


# -- injected latency ---------------------------------------------------------------------------


class Delays:
    """The injected waits in progress, which ``release_delays`` ends at once.

    Real time on purpose: the integration waits for them in real time. Releasing them lets a
    scenario slow what a handler does before answering for as long as that answer is judged, then
    let the work finish without waiting the rest out.
    """

    def __init__(self) -> None:
        self.pending: set[asyncio.Event] = set()

    async def wait(self, seconds: float) -> None:
        released = asyncio.Event()
        self.pending.add(released)
        try:
            await asyncio.wait_for(released.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            self.pending.discard(released)

    def release_all(self) -> None:
        self.release()

    def release(self) -> int:
        """End every wait in progress now; how many there were."""
        count = len(self.pending)
        for event in list(self.pending):
            event.set()
        return count


def _is_delay(fault: Record) -> bool:
    params = fault["params"]
    if fault["kind"] == "download":
        return bool(params.get("mode") == "delay")
    return fault["kind"] == "route" and bool(params.get("latency")) and "status" not in params


def _release_delays(ctx: MockContext, delays: Delays) -> dict[str, Any]:
    """End the waits in progress and disarm the pure delays not yet spent (no later request waits)."""
    disarmed = [fault["id"] for fault in active(ctx) if _is_delay(fault)]
    for fault_id in disarmed:
        remove(ctx, fault_id)
    return {"remaining": 0, "applied": {"released": delays.release(), "disarmed": disarmed}}


# -- route faults: the middleware hook ------------------------------------------------------------


def _path_matches(prefix: str, path: str) -> bool:
    """Whole-segment prefix: ``/documents`` matches ``/documents`` and ``/documents/x``, not ``/documentsx``."""
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/")


class RouteFaults:
    """``api_faults`` hook: ``await hook(scope, receive, send, extra_headers, started) -> status | None``."""

    def __init__(self, ctx: MockContext, delays: Delays) -> None:
        self.ctx = ctx
        self.delays = delays

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, extra_headers: list[tuple[bytes, bytes]], started: float
    ) -> int | None:
        method, path = scope["method"], scope["path"]
        fault = take(
            self.ctx,
            "route",
            lambda f: _path_matches(f["params"]["path"], path) and f["params"].get("method", method) == method,
        )
        if fault is None:
            return None
        params = fault["params"]
        scope.setdefault("askara.note", {})["fault"] = fault["id"]
        if params.get("latency"):
            await self.delays.wait(float(params["latency"]))  # real time on purpose: it measures the client
        status = params.get("status")
        if status is None:
            return None
        error = self._error(fault, int(status), extra_headers)
        request = Request(scope, receive)
        # An injected 401 looks like production's (league's bundle: plain text), not a problem document.
        if isinstance(error, Unauthorized):
            response = bearer_refusal(request, error)
        else:
            response = problem_response(request, error)
        # The bucket's own x-ratelimit headers, unless the error sets its own (an injected 429 does).
        response.raw_headers.extend(_without(extra_headers, error.headers))
        await response(scope, receive, send)
        return int(status)

    def _error(self, fault: Record, status: int, extra_headers: list[tuple[bytes, bytes]]) -> ProblemError:
        detail = f"Injected fault {fault['id']} (askara-mock): {fault['params']['path']} answers {status}."
        if status == 429:
            return self._too_many(fault, detail, extra_headers)
        if status == 401:
            return Unauthorized(detail)
        error = ProblemError(detail)
        error.status = status
        error.title = _phrase(status)
        return error

    def _too_many(self, fault: Record, detail: str, extra_headers: list[tuple[bytes, bytes]]) -> TooManyRequests:
        """A 429 as the real limiter answers it: Retry-After and the three x-ratelimit headers."""
        ctx = self.ctx
        retry_after = int(fault["params"].get("retry_after") or ctx.settings.rate_limit_interval)
        current = {name.decode(): value.decode() for name, value in extra_headers}
        limit = current.get("x-ratelimit-limit", str(ctx.settings.rate_limit_capacity))
        reset = str(math.ceil(ctx.clock.now() + retry_after))
        headers = {"x-ratelimit-limit": limit, "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
        return TooManyRequests(detail + f" Retry after {retry_after} s.", retry_after=retry_after, headers=headers)


def _without(extra: list[tuple[bytes, bytes]], headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """``extra`` minus the headers already set (the response must not carry a header twice)."""
    names = {name.lower().encode() for name in headers}
    return [(name, value) for name, value in extra if name.lower() not in names]


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# -- download and expired-link faults -------------------------------------------------------------


def _clear_all(ctx: MockContext) -> None:
    """Reset disarms every fault (the count :func:`clear` answers is for ``DELETE /_mock/faults``)."""
    clear(ctx)


def _download_fault(ctx: MockContext, delays: Delays) -> Callable[[str], str | Awaitable[str]]:
    """``download_fault(document_uuid) -> "ok" | "error" | "error_503" | "truncate"`` for the PDF route;
    mode ``delay`` answers an awaitable that waits ``latency`` real seconds, then serves the PDF whole."""

    def fault(document_uuid: str) -> str | Awaitable[str]:
        record = take(ctx, "download", lambda f: f["params"].get("document") in (None, document_uuid))
        if record is None:
            return "ok"
        mode = str(record["params"]["mode"])
        if mode == "delay":
            return _after(delays, float(record["params"]["latency"]))
        return "error_503" if mode == "error" and record["params"].get("status") == 503 else mode

    return fault


async def _after(delays: Delays, seconds: float) -> str:
    """A slow storage host: the PDF is served whole after ``seconds`` (or when released)."""
    await delays.wait(seconds)
    return "ok"


def _expired_link_transform(ctx: MockContext) -> Callable[[Record], None]:
    """Event transform: the next N document events get a PDF link that expired a second ago."""

    def transform(event: Record) -> None:
        payload = event.get("payload", {})
        document = payload.get("metadata", {}).get("document")
        if payload.get("resource_type") != "document" or not isinstance(document, dict):
            return
        pdf = document.get("pdf")
        if not isinstance(pdf, dict) or not active(ctx, "expired_link"):
            return
        record = take(ctx, "expired_link")
        if record is None:
            return
        url = signed_pdf_url(ctx, document["uuid"], pdf.get("fileName", ""), expires_at=ctx.clock.now() - 1)
        # Copy, never mutate: the metadata may be the stored document record itself.
        payload["metadata"] = {**payload["metadata"], "document": {**document, "pdf": {**pdf, "url": url}}}
        event["fault"] = record["id"]

    return transform
