"""The delivery fault kinds: duplicate, out_of_order, concurrent, forged_signature.

They live in the shared fault list of :mod:`mock_server.faults.registry` (``store.meta["faults"]``, so
they survive a restart with ``--state`` and show in ``GET /_mock/faults``). Each applies to the
next ``count`` events that have at least one subscribed webhook, then disarms itself: an event
nobody receives does not use a fault up.

* ``duplicate`` ``{count=1, copies=2, delay=0}``: each delivery of the event is sent ``copies``
  times in all; the extra copies go right after the first attempt (``delay`` 0) or ``delay``,
  ``2*delay``... mock seconds after it.
* ``out_of_order`` ``{count=1}``: the next event is held back until the one after it has been
  sent, so the receiver sees them swapped.
* ``concurrent`` ``{count=1, copies=2}``: the first attempt of the event's deliveries goes out
  as ``copies`` simultaneous requests.
* ``forged_signature`` ``{mode, count=1}``: every attempt of the event's deliveries is signed
  wrongly in ``mode`` (see :mod:`mock_server.sender.signing`); arming it turns signing on.
* ``lost_ack`` ``{count=1}``: the first attempt of the event's deliveries reaches the receiver,
  but its answer is treated as lost (a network failure after the request was sent), so the
  delivery is retried as Askara would: the receiver must not import twice.
* ``batch`` ``{count=2}``: the next ``count`` events go out together, in one delivery per
  webhook, sent when the last of them arrives.
"""

from __future__ import annotations

import uuid
from typing import Any

from mock_server.core.context import MockContext
from mock_server.core.errors import ValidationFailed, Violation
from mock_server.core.store import Record
from mock_server.core.vocabulary import DELIVERY_FAULT_KINDS, FORGE_MODES, PER_EVENT_FAULT_KINDS
from mock_server.faults import registry as fault_list

MAX_COPIES = 20
MAX_DELAY = 86_400.0

_ALLOWED: dict[str, tuple[str, ...]] = {
    "duplicate": ("count", "copies", "delay"),
    "out_of_order": ("count",),
    "concurrent": ("count", "copies"),
    "forged_signature": ("count", "mode"),
    "lost_ack": ("count",),
    "batch": ("count",),
}


def check(ctx: MockContext, body: dict[str, Any]) -> dict[str, Any]:
    """The ``fault_kinds`` handler: check the parameters, answer ``remaining`` and full ``params``."""
    kind = str(body.get("kind"))
    params = {key: value for key, value in body.items() if key != "kind"}
    violations: list[Violation] = []
    for key in params:
        if key not in _ALLOWED[kind]:
            allowed = ", ".join(_ALLOWED[kind])
            violations.append(Violation(key, f"This field is not allowed for kind {kind!r} (allowed: {allowed}).",
                                        "additional_property"))
    low, default = (2, 2) if kind == "batch" else (1, 1)
    count = _integer(params, "count", default, low, 1_000_000 if kind != "batch" else 100, violations)
    result: dict[str, Any] = {"count": count}
    if kind in ("duplicate", "concurrent"):
        result["copies"] = _integer(params, "copies", 2, 2, MAX_COPIES, violations)
    if kind == "duplicate":
        delay = params.get("delay", 0)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY:
            violations.append(Violation("delay", f"This value should be a number of mock seconds between 0 and "
                                                 f"{MAX_DELAY:g}; got {delay!r}.", "range"))
        else:
            result["delay"] = float(delay)
    if kind == "forged_signature":
        mode = params.get("mode")
        if mode not in FORGE_MODES:
            violations.append(Violation("mode", f"This value should be one of {', '.join(FORGE_MODES)}; got {mode!r}.",
                                        "choice" if mode is not None else "required"))
        result["mode"] = mode
    if violations:
        raise ValidationFailed("\n".join(f"{v.property_path}: {v.message}" for v in violations), violations=violations)
    if kind == "forged_signature":
        ctx.ensure_webhook_secret()
    return {"remaining": count, "params": result}


def arm(ctx: MockContext, kind: str, **params: Any) -> Record:
    """Arm a delivery fault from Python (tests), exactly as ``POST /_mock/faults`` would."""
    if kind not in DELIVERY_FAULT_KINDS:
        raise ValueError(f"unknown delivery fault kind {kind!r}; known: {', '.join(DELIVERY_FAULT_KINDS)}")
    record: Record = {"id": "flt_" + uuid.uuid4().hex[:16], "kind": kind, "params": params, "remaining": 1,
                      "created_at": ctx.clock.now()}
    record.update(check(ctx, {"kind": kind, **params}))
    return fault_list.add(ctx, record)


def take_for_event(ctx: MockContext) -> dict[str, dict[str, Any]]:
    """Spend one use of each armed per-event kind: ``{kind: params + fault_id}``."""
    taken: dict[str, dict[str, Any]] = {}
    for kind in PER_EVENT_FAULT_KINDS:
        record = fault_list.take(ctx, kind)
        if record is not None:
            taken[kind] = {**record.get("params", {}), "fault_id": record["id"], "last": record.get("remaining") == 1}
    return taken


def out_of_order_armed(ctx: MockContext) -> bool:
    return bool(fault_list.active(ctx, "out_of_order"))


def spend_out_of_order(ctx: MockContext) -> Record | None:
    return fault_list.take(ctx, "out_of_order")


def register(ctx: MockContext) -> None:
    for kind in DELIVERY_FAULT_KINDS:
        ctx.fault_kinds[kind] = check


def _integer(params: dict[str, Any], name: str, default: int, low: int, high: int, violations: list[Violation]) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        violations.append(Violation(name, f"This value should be an integer between {low} and {high}; got {value!r}.",
                                    "range"))
        return default
    return value
