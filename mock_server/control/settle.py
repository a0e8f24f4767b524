"""``POST /_mock/settle``: answer once every delivery that is due has been attempted and answered.

For a vendor's own tests: instead of polling ``/_mock/deliveries``, one call waits (real time,
bounded by ``timeout``) until no delivery is due on the mock clock and no attempt is still
waiting for the integration's answer, and says which deliveries it waited for. With
``advance=true`` it also moves the clock to each pending retry in turn until nothing is pending,
as the harness's ``deliveries-settled`` step does. When the time runs out it answers 409 naming
each delivery still pending, and changes nothing more.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.control.common import context, query_bool
from mock_server.core.context import MockContext
from mock_server.core.errors import BadRequest, Conflict, Violation
from mock_server.core.store import Record
from mock_server.web.http import json_response

DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 600.0
POLL = 0.005
"""Real seconds between looks while a due timer has not fired yet (it fires on the timer task)."""


def routes() -> list[BaseRoute]:
    return [Route("/_mock/settle", settle, methods=["POST"])]


async def settle(request: Request) -> Response:
    """Wait for the due deliveries (and with ``advance=true``, every retry); 409 naming what is left."""
    ctx = context(request)
    advance = query_bool(request, "advance") is True
    deadline = time.monotonic() + timeout_of(request)
    before = {d["id"]: (d["state"], len(d["attempts"])) for d in ctx.store.deliveries}
    started = ctx.clock.now()
    done = await until_settled(ctx, deadline, advance=advance)
    pending = [_brief(d) for d in _pending(ctx)]
    if not done:
        violations = [Violation(f"deliveries.{d['id']}", _still(d), "settled") for d in pending]
        names = ", ".join(d["id"] for d in pending[:5]) + (" ..." if len(pending) > 5 else "")
        raise Conflict(f"Not settled within the timeout: {len(pending)} deliveries still pending ({names}).",
                       violations=violations)
    waited = [_brief(d) for d in ctx.store.deliveries if before.get(d["id"]) != (d["state"], len(d["attempts"]))]
    return json_response({
        "settled": True,
        "advanced": ctx.clock.now() - started if advance else 0.0,
        "clock": ctx.clock.describe(),
        "waited_for": waited,
        "pending": pending,
    })


async def until_settled(ctx: MockContext, deadline: float, *, advance: bool) -> bool:
    """True once nothing is due (and, with ``advance``, nothing pending); False when ``deadline`` passed first."""
    while True:
        if not await _drain(ctx, deadline):
            return False
        pending = _pending(ctx) if advance else []
        if not pending:
            return True
        dues = [float(d["next_attempt_at"]) for d in pending if d["next_attempt_at"] is not None]
        if not dues or time.monotonic() >= deadline:
            return False  # only deliveries held for another that will never go: nothing to drive
        jump = min(dues) - ctx.clock.now()
        if jump > 0:
            ctx.clock.advance(jump)


async def _drain(ctx: MockContext, deadline: float) -> bool:
    while ctx.timers.busy() or any(_due(ctx, d) for d in _pending(ctx)):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        running = ctx.timers.running()
        if running:
            await asyncio.wait(running, timeout=remaining)
        else:
            await asyncio.sleep(min(POLL, remaining))
    return True


def _pending(ctx: MockContext) -> list[Record]:
    return [d for d in ctx.store.deliveries if d["state"] == "pending"]


def _due(ctx: MockContext, record: Record) -> bool:
    due = record["next_attempt_at"]
    return due is not None and float(due) <= ctx.clock.now()


def _brief(record: Record) -> dict[str, Any]:
    last = record["attempts"][-1] if record["attempts"] else {}
    return {
        "id": record["id"],
        "webhook_id": record["webhook_id"],
        "state": record["state"],
        "attempts": len(record["attempts"]),
        "last_status": last.get("status"),
        "last_failure": last.get("failure"),
        "next_attempt_at": record["next_attempt_at"],
    }


def _still(record: dict[str, Any]) -> str:
    if record["next_attempt_at"] is None:
        return f"still pending after {record['attempts']} attempts, held until the delivery it must follow is sent"
    return f"still pending after {record['attempts']} attempts, next attempt at mock time {record['next_attempt_at']}"


def timeout_of(request: Request) -> float:
    """The ``timeout`` query parameter (real seconds, > 0 and <= 600), or a 400 naming it and the rule."""
    raw = request.query_params.get("timeout")
    if raw is None or raw == "":
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (0 < value <= MAX_TIMEOUT):
        message = f"The query parameter 'timeout' must be a number of seconds > 0 and <= {MAX_TIMEOUT:g}; "
        message += f"got {raw!r:.60}."
        raise BadRequest(message, violations=[Violation("timeout", message, "query")])
    return value
