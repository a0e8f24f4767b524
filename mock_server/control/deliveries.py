"""Control routes of the sender: the delivery log, the failure queue, redelivery.

Records are served as stored (see ARCHITECTURE.md). Lists answer the page of :mod:`.paging`
(``{items, last_id, dropped}``, ``since=ID`` for what was added after ``last_id``) plus ``total``,
what matched before ``limit``; ``dropped`` counts the old deliveries the bounded log has evicted
(pending and failed ones never are). ``created_since`` keeps those created at or after a time (epoch seconds).
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.control.paging import page, since_of
from mock_server.core.errors import BadRequest, Violation
from mock_server.core.store import Record
from mock_server.sender.dispatch import WebhookSender
from mock_server.web.http import json_response, read_json

STATES = ("pending", "delivered", "failed", "cancelled")
FILTERS = ("state", "webhook", "event", "since", "created_since", "limit")


def _sender(request: Request) -> WebhookSender:
    sender: WebhookSender = request.app.state.mock.sender
    return sender


def _bad(name: str, message: str, code: str) -> BadRequest:
    return BadRequest(f"{name}: {message}", violations=[Violation(name, message, code)])


def _created_since(raw: str) -> float:
    """Epoch seconds on the mock clock, as every record's times are (a number, not a date)."""
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise _bad("created_since", f"This value should be epoch seconds (a number >= 0); got {raw!r:.60}.", "number")
    return value


def _select(request: Request, *, state: str | None = None) -> Response:
    query = request.query_params
    for name in query:
        if name not in FILTERS or (state is not None and name == "state"):
            allowed = ", ".join(f for f in FILTERS if state is None or f != "state")
            raise _bad(name, f"Unknown query parameter (allowed: {allowed}).", "unknown_parameter")
    state = state or query.get("state")
    if state is not None and state not in STATES:
        raise _bad("state", f"The value {state!r:.40} is not a valid choice ({', '.join(STATES)}).", "choice")
    webhook, event = query.get("webhook"), query.get("event")
    created = _created_since(query["created_since"]) if "created_since" in query else None
    limit = None
    if "limit" in query:
        raw = query["limit"]
        if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
            raise _bad("limit", f"This value should be an integer between 1 and 100000; got {raw!r:.40}.", "range")
        limit = int(raw)

    def matches(record: Record) -> bool:
        return (
            (state is None or record["state"] == state)
            and (webhook is None or record["webhook_id"] == webhook)
            and (event is None or event in record["event_ids"] or event in record["resource_ids"])
            and (created is None or record["created_at"] >= created)
        )

    table = request.app.state.mock.store.deliveries
    since = since_of(request)
    body, cut = page(table, since, matches, limit=limit)
    total = len(body["items"])
    if cut:
        total = sum(1 for key, record in table.items() if table.order(key) > (since or 0) and matches(record))
    return json_response({**body, "total": total})


async def list_deliveries(request: Request) -> Response:
    """``GET /_mock/deliveries``: every delivery with its attempts, oldest first."""
    return _select(request)


async def list_failures(request: Request) -> Response:
    """``GET /_mock/failures``: the failure queue (deliveries whose retries are spent)."""
    return _select(request, state="failed")


async def get_delivery(request: Request) -> Response:
    table = request.app.state.mock.store.deliveries
    return json_response(table.require(request.path_params["delivery_id"], "Delivery"))


async def redeliver(request: Request) -> Response:
    """``POST /_mock/deliveries/{id}/redeliver``: 202 now, the attempt runs in the background.

    The answer is the delivery as it stands (the new attempt is not in it yet) with
    ``redelivery: {status: "scheduled", scheduled_at, attempts_before}``; the attempt is recorded
    once the receiver has answered: ``GET /_mock/deliveries/{id}`` shows it (``askara-mock
    redeliver`` waits for it)."""
    sender = _sender(request)
    record = sender.redeliver(request.path_params["delivery_id"])
    scheduled = {"status": "scheduled", "scheduled_at": sender.clock.now(), "attempts_before": len(record["attempts"])}
    return json_response({**record, "redelivery": scheduled}, 202)


async def send_raw(request: Request) -> Response:
    """``POST /_mock/webhooks/{uuid}/send`` ``{"events": [...]}``: deliver hand-made events (an
    unknown action, an unusual payload) like any delivery; 202 with the delivery."""
    body = await read_json(request, "control-webhook-send")
    return json_response(_sender(request).send_raw(request.path_params["webhook_id"], body["events"]), 202)


def routes() -> list[BaseRoute]:
    return [
        Route("/_mock/deliveries", list_deliveries, methods=["GET"]),
        Route("/_mock/deliveries/{delivery_id}", get_delivery, methods=["GET"]),
        Route("/_mock/deliveries/{delivery_id}/redeliver", redeliver, methods=["POST"]),
        Route("/_mock/failures", list_failures, methods=["GET"]),
        Route("/_mock/webhooks/{webhook_id}/send", send_raw, methods=["POST"]),
    ]
