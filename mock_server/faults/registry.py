"""The active-fault list every fault kind shares, and the registry of kinds.

A fault is a record ``{id, kind, params, remaining, created_at}`` kept in ``store.meta["faults"]``
so that a mock restarted with ``--state`` still injects what it was asked to. Each kind has a
handler (``ctx.fault_kinds``: ``kind -> handler(ctx, body) -> dict``) that checks the body of
``POST /_mock/faults`` and adjusts the record; the record is kept while ``remaining`` is above 0
(immediate kinds set ``remaining: 0``; ``None`` means "until deleted"). Whoever applies a fault
calls :func:`take`, which spends one use atomically. The kinds are named once, in
:mod:`mock_server.core.vocabulary`; :mod:`.api` and :mod:`.delivery` implement them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mock_server.core.context import MockContext
from mock_server.core.store import Record

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


def fault_params(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "kind"}


def fault_count(params: dict[str, Any]) -> int:
    """The ``count`` parameter (default 1); handlers of other kinds may override ``remaining``."""
    count = params.get("count", 1)
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1
