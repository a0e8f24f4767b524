"""Faults on demand: ``/_mock/faults`` and the API-side fault kinds.

A fault is a record ``{id, kind, params, remaining, created_at}`` kept in ``store.meta["faults"]``
so that a mock restarted with ``--state`` still injects what it was asked to. Kinds live in a
registry, ``ctx.extensions["fault_kinds"]`` (``kind -> handler(ctx, body) -> dict``): this module
registers the API kinds, the webhook sender registers its delivery kinds. ``POST /_mock/faults``
builds the default record, lets the handler check the body and adjust the record, then keeps it
while ``remaining`` is above 0 (immediate kinds set ``remaining: 0``; ``None`` means "until
deleted"). Whoever applies a fault calls :func:`take` which spends one use atomically.

API kinds:

* ``route``: the next N requests under a path prefix get real latency and/or an error status,
  through the ``api_faults`` hook the middleware calls.
* ``expire_tokens``: every access token issued so far is expired now.
* ``drain_bucket``: a client's rate-limit bucket is emptied now.
* ``download``: the next N PDF downloads fail or are cut short (``download_fault`` hook).
* ``expired_link``: the next N document events carry an already-expired PDF link (event transform).
"""

from __future__ import annotations

import asyncio
import http
import math
import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from mock_server.context import MockContext
from mock_server.errors import NotFound, ProblemError, TooManyRequests, Unauthorized, ValidationFailed, Violation
from mock_server.http import json_response, problem_response, read_json
from mock_server.store import Record
from mock_server.validation import validate

META_KEY = "faults"
FaultHandler = Callable[[MockContext, dict[str, Any]], dict[str, Any]]


# -- the active-fault list (shared with the webhook sender) ---------------------------------------


def active(ctx: MockContext, kind: str | None = None) -> list[Record]:
    """Active faults, oldest first, optionally of one kind."""
    meta = ctx.store.meta.get(META_KEY)
    items: list[Record] = list(meta["items"]) if meta else []
    return [item for item in items if kind is None or item["kind"] == kind]


def _save(ctx: MockContext, items: list[Record]) -> None:
    ctx.store.meta.put(META_KEY, {"items": items})


def add(ctx: MockContext, record: Record) -> Record:
    """Keep ``record`` active (it must have an ``id``)."""
    _save(ctx, [*active(ctx), record])
    return record


def remove(ctx: MockContext, fault_id: str) -> Record | None:
    items = active(ctx)
    kept = [item for item in items if item["id"] != fault_id]
    if len(kept) == len(items):
        return None
    _save(ctx, kept)
    return next(item for item in items if item["id"] == fault_id)


def clear(ctx: MockContext) -> int:
    count = len(active(ctx))
    _save(ctx, [])
    return count


def take(ctx: MockContext, kind: str, match: Callable[[Record], bool] | None = None) -> Record | None:
    """Spend one use of the oldest active ``kind`` fault that ``match``es; drop it when used up.

    No ``await`` happens between finding and spending, so two concurrent requests never share
    one use. Returns the record as it was before spending (``remaining`` included), or None.
    """
    items = active(ctx)
    for index, item in enumerate(items):
        if item["kind"] != kind or (match is not None and not match(item)):
            continue
        remaining = item.get("remaining")
        if remaining is None:
            return item
        if remaining <= 1:
            del items[index]
        else:
            items[index] = {**item, "remaining": remaining - 1}
        _save(ctx, items)
        return item
    return None


# -- installing the hooks -------------------------------------------------------------------------


def install(ctx: MockContext) -> None:
    """Register the API kinds and the hooks they act through (called once per context)."""
    kinds: dict[str, FaultHandler] = ctx.extensions.setdefault("fault_kinds", {})
    kinds.update(
        {
            "route": _route_kind,
            "expire_tokens": _expire_tokens_kind,
            "drain_bucket": _drain_bucket_kind,
            "download": _download_kind,
            "expired_link": _counted_kind,
        }
    )
    ctx.extensions["api_faults"] = _RouteFaults(ctx)
    ctx.extensions.setdefault("on_reset", []).append(lambda: clear(ctx))
    ctx.extensions["download_fault"] = _download_fault(ctx)
    ctx.extensions.setdefault("event_transforms", []).append(_expired_link_transform(ctx))


def _params(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "kind"}


def _refuse(field: str, message: str, code: str) -> None:
    """A 422 naming ``field`` and the rule, for checks JSON Schema cannot say clearly."""
    raise ValidationFailed(f"{field}: {message}", violations=[Violation(field, message, code)])


def _count(params: dict[str, Any]) -> int:
    """The ``count`` parameter (default 1); handlers of other kinds may override ``remaining``."""
    count = params.get("count", 1)
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1


def _counted_kind(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"remaining": _count(body)}


def _download_kind(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    if "status" in body and body.get("mode") != "error":
        _refuse("status", "Only mode error answers a status (truncate sends a 200 cut short).", "mode")
    return {"remaining": _count(body)}


def _route_kind(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    if not str(body["path"]).startswith("/"):
        _refuse("path", f"The path prefix must start with / (e.g. /documents); got {body['path']!r:.60}.", "pattern")
    if "status" not in body and "latency" not in body:
        _refuse("status", "Give a status, a latency or both; a route fault with neither does nothing.", "required")
    if "retry_after" in body and body.get("status") != 429:
        _refuse("retry_after", "Only an injected 429 (status: 429) carries Retry-After.", "status")
    return {"remaining": _count(body)}


def _expire_tokens_kind(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    expired_at = ctx.tokens.expire_all_access_tokens()
    return {"remaining": 0, "applied": {"access_tokens_expired_at": expired_at}}


def _drain_bucket_kind(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    client_id = body.get("client_id") or ctx.settings.client_id
    key = f"client:{client_id}"
    ctx.rate_limiter.drain(key)
    return {"remaining": 0, "params": {"client_id": client_id}, "applied": {"bucket": key}}


# -- route faults: the middleware hook ------------------------------------------------------------


def _path_matches(prefix: str, path: str) -> bool:
    """Whole-segment prefix: ``/documents`` matches ``/documents`` and ``/documents/x``, not ``/documentsx``."""
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/")


class _RouteFaults:
    """``api_faults`` hook: ``await hook(scope, receive, send, extra_headers, started) -> status | None``."""

    def __init__(self, ctx: MockContext) -> None:
        self.ctx = ctx

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
            await asyncio.sleep(float(params["latency"]))  # real time on purpose: it measures the client
        status = params.get("status")
        if status is None:
            return None
        error = self._error(fault, int(status), extra_headers)
        response = problem_response(Request(scope, receive), error)
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


def _download_fault(ctx: MockContext) -> Callable[[str], str]:
    """``download_fault(document_uuid) -> "ok" | "error" | "truncate"`` for the PDF route."""

    def fault(document_uuid: str) -> str:
        record = take(ctx, "download", lambda f: f["params"].get("document") in (None, document_uuid))
        if record is None:
            return "ok"
        mode = str(record["params"]["mode"])
        return "error_503" if mode == "error" and record["params"].get("status") == 503 else mode

    return fault


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
        from mock_server.files import signed_pdf_url  # the resources module owns link signing

        url = signed_pdf_url(ctx, document["uuid"], pdf.get("fileName", ""), expires_at=ctx.clock.now() - 1)
        # Copy, never mutate: the metadata may be the stored document record itself.
        payload["metadata"] = {**payload["metadata"], "document": {**document, "pdf": {**pdf, "url": url}}}
        event["fault"] = record["id"]

    return transform


# -- the control endpoints ------------------------------------------------------------------------


def _kinds(ctx: MockContext) -> dict[str, FaultHandler]:
    kinds: dict[str, FaultHandler] = ctx.extensions.setdefault("fault_kinds", {})
    return kinds


async def create_fault(request: Request) -> Response:
    """``POST /_mock/faults``: check the body, apply or arm the fault, answer its record."""
    ctx: MockContext = request.app.state.mock
    body = await read_json(request)
    violations = validate("fault", body)
    kinds = _kinds(ctx)
    kind = body.get("kind") if isinstance(body, dict) else None
    if isinstance(kind, str) and kind and kind not in kinds:
        known = ", ".join(sorted(kinds))
        message = f"The value {kind!r:.60} is not a known fault kind. Known kinds: {known}."
        violations.append(Violation("kind", message, "choice"))
    if violations:
        summary = "\n".join(f"{v.property_path or '(body)'}: {v.message}" for v in violations)
        raise ValidationFailed(summary, violations=violations)
    assert isinstance(kind, str)
    params = _params(body)
    record: Record = {
        "id": "flt_" + uuid.uuid4().hex[:16],
        "kind": kind,
        "params": params,
        "remaining": _count(params),
        "created_at": ctx.clock.now(),
    }
    record.update(kinds[kind](ctx, body) or {})
    if record.get("remaining") is None or record["remaining"] > 0:
        add(ctx, record)
    return json_response(record, 201)


async def list_faults(request: Request) -> Response:
    """``GET /_mock/faults``: the faults still armed, oldest first."""
    return json_response(active(request.app.state.mock))


async def list_kinds(request: Request) -> Response:
    """``GET /_mock/faults/kinds``: every kind this mock can inject (the API's and the sender's)."""
    return json_response(sorted(_kinds(request.app.state.mock)))


async def clear_faults(request: Request) -> Response:
    """``DELETE /_mock/faults``: disarm every fault."""
    return json_response({"cleared": clear(request.app.state.mock)})


async def delete_fault(request: Request) -> Response:
    """``DELETE /_mock/faults/{id}``: disarm one fault."""
    fault_id = request.path_params["fault_id"]
    if remove(request.app.state.mock, fault_id) is None:
        raise NotFound(f'Fault "{fault_id}" not found (it may have been used up already).')
    return Response(status_code=204)


def routes() -> list[BaseRoute]:
    return [
        Route("/_mock/faults", create_fault, methods=["POST"]),
        Route("/_mock/faults", list_faults, methods=["GET"]),
        Route("/_mock/faults", clear_faults, methods=["DELETE"]),
        Route("/_mock/faults/kinds", list_kinds, methods=["GET"]),
        Route("/_mock/faults/{fault_id}", delete_fault, methods=["DELETE"]),
    ]
