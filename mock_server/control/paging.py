"""The one page shape of every ``/_mock`` record listing: ``{items, last_id, dropped}``, paged by ``?since=ID``.

``items`` are the records, oldest first; ``last_id`` is the cursor of the last one (the ``since`` given,
or 0, when there is none): the next call with ``since=<last_id>`` returns only what was added after
it. ``dropped`` counts what the bounded table has dropped so far, so a test that sees it grow
between two calls knows it missed entries. The cursor is the record's own ``id`` where it is a
number (the journal, the control actions), else the table's insertion number
(:meth:`mock_server.core.store.Table.order`): a record changed in place keeps its place, so
``since`` shows what is new, not what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from mock_server.control.common import query_int
from mock_server.core.store import Record, Table

Cursor = Callable[[str, Record], int]


def since_of(request: Request) -> int | None:
    """The ``since`` cursor, or a 400 naming it when it is not an integer >= 0."""
    return query_int(request, "since", minimum=0)


def page(
    table: Table,
    since: int | None,
    keep: Callable[[Record], bool] | None = None,
    *,
    limit: int | None = None,
    cursor: Cursor | None = None,
) -> tuple[dict[str, Any], bool]:
    """The page of ``table`` after ``since`` whose records ``keep`` accepts (at most ``limit``; True when cut)."""
    position = cursor or (lambda key, _record: table.order(key))
    items: list[Record] = []
    last = since or 0
    for key, record in table.items():
        number = position(key, record)
        if (since is not None and number <= since) or (keep is not None and not keep(record)):
            continue
        if limit is not None and len(items) >= limit:
            return {"items": items, "last_id": last, "dropped": table.dropped}, True
        items.append(record)
        last = number
    return {"items": items, "last_id": last, "dropped": table.dropped}, False


def by_id(_key: str, record: Record) -> int:
    """The cursor of tables whose records carry a growing integer ``id`` (journal, control actions)."""
    return int(record["id"])
