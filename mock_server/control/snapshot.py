"""``GET /_mock/snapshot`` (the whole state as one document) and ``POST /_mock/snapshot`` (load one).

The format is :mod:`mock_server.core.snapshot`; this module checks a document completely before
anything is replaced (version, ``schemas/snapshot.schema.json``, the cross-record rules), then
loads it around the webhook sender: every timer of the old state cancelled, in-flight attempts
stopped, the tables replaced, then the pending deliveries re-armed at their recorded times, as a
restart with ``--state`` does (:meth:`WebhookSender.startup`). Loading emits no event, so it
fires no webhook; a retry whose time has come on the loaded clock goes at once.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.control.common import context
from mock_server.core import snapshot as fmt
from mock_server.core.context import MockContext
from mock_server.core.errors import BadRequest, ProblemError, Violation
from mock_server.core.vocabulary import FAULT_KINDS, IMMEDIATE_FAULT_KINDS
from mock_server.faults.registry import META_KEY as FAULTS_KEY
from mock_server.web.http import json_response, read_json
from mock_server.web.validation import validate

MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
"""A snapshot is a whole mock (10 000 deliveries with their attempts): far above the API's body limit."""


def routes() -> list[BaseRoute]:
    return [Route("/_mock/snapshot", snapshot, methods=["GET", "POST"])]


def checked(doc: Any, ctx: MockContext) -> fmt.Snapshot:
    """``doc`` upgraded to this build's version and valid in every part, or a 400 naming each broken rule.

    The armed faults are checked by their kinds' own handlers (``ctx.fault_kinds``), as ``POST
    /_mock/faults`` checks them, so a loaded fault never meets a parameter its kind cannot apply."""
    doc = fmt.upgraded(doc)
    signing = ctx.webhook_secret
    violations = validate("snapshot", doc) or fmt.consistency(doc) or _fault_violations(ctx, doc)
    if violations:
        ctx.webhook_secret = signing  # a forged_signature handler turns signing on: not for a refused snapshot
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise BadRequest(f"The snapshot was not loaded: {first.property_path}: {first.message}{more}",
                         violations=violations)
    return doc


def _fault_violations(ctx: MockContext, doc: fmt.Snapshot) -> list[Violation]:
    violations: list[Violation] = []
    for index, (key, record) in enumerate(doc["tables"]["meta"]["rows"]):
        if key != FAULTS_KEY:
            continue
        for number, fault in enumerate(record["items"]):
            path = f"tables.meta.rows.{index}.1.items.{number}"
            kind = fault["kind"]
            if kind not in FAULT_KINDS or kind in IMMEDIATE_FAULT_KINDS:
                rule = "applied when armed, never kept armed" if kind in FAULT_KINDS else "not a fault kind"
                violations.append(Violation(f"{path}.kind", f"{kind!r:.60}: {rule} (kinds: {', '.join(FAULT_KINDS)}).",
                                            "kind"))
                continue
            body = {**fault["params"], "kind": kind}
            found = validate("fault", body)
            if not found:
                try:
                    armed = ctx.fault_kinds[kind](ctx, body).get("params", fault["params"])
                except ProblemError as exc:
                    found = exc.violations or [Violation("", exc.detail, "fault")]
                else:
                    if armed != fault["params"]:  # kept as POST /_mock/faults keeps them: complete, defaults filled in
                        found = [Violation("", f"The parameters of an armed {kind} fault are kept complete: "
                                               f"{armed!r:.200}.", "armed_params")]
            violations += [Violation(f"{path}.params.{v.property_path}".rstrip("."), v.message, v.code) for v in found]
    return violations


async def load(ctx: MockContext, doc: fmt.Snapshot) -> None:
    """Replace the mock's state with ``doc`` (already :func:`checked`) and re-arm its pending deliveries."""
    await ctx.timers.stop()  # in-flight attempts belong to the state being replaced
    ctx.sender.on_reset()
    fmt.apply(ctx, doc)
    fmt.remember_start(ctx)  # the loaded state is where the story now starts
    await ctx.sender.startup()
    await ctx.timers.start()


def summary(doc: fmt.Snapshot) -> dict[str, Any]:
    """What a load put in place: counts per table, the clock, the deliveries re-armed."""
    deliveries = [row[1] for row in doc["tables"]["deliveries"]["rows"]]
    return {
        "loaded": True,
        "version": doc["version"],
        "counts": {name: len(table["rows"]) for name, table in doc["tables"].items()},
        "clock": doc["clock"],
        "pending_deliveries": sum(1 for d in deliveries if d.get("state") == "pending"),
    }


async def snapshot(request: Request) -> Response:
    """GET: the state as a snapshot document; POST: load one (400 naming the field and rule if it is bad)."""
    ctx = context(request)
    if request.method == "GET":
        headers = {"Content-Disposition": 'attachment; filename="askara-mock-snapshot.json"'}
        return json_response(fmt.take(ctx), headers=headers)
    doc = checked(await read_json(request, limit=MAX_SNAPSHOT_BYTES), ctx)
    await load(ctx, doc)
    return json_response(summary(doc))
