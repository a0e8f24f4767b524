"""The indexed path of a collection query: a page from the store's sorted views, without a table scan.

A query is answered here when each of its filters is an ``eq`` filter the spec lists as
``indexed`` (one value) or a date bound: the view for (scope, those filter names, the ordering)
files every record under (its scope value, its filter values) and sorts each group exactly as
:func:`mock_server.web.collections.sort_records` does (the order fields, then the uuid). A page
is a slice of one group: O(log n + page). Date bounds on the first order field narrow the
slice by bisection; bounds on another field are tested on the group's records (a scan of the
group, not of the table). Anything else (``search``, several values of a filter, an ``exists``)
returns None and the caller filters the full list, as before; both paths give the same answer
(``tests/test_indexed_query.py`` checks it against the full scan with Hypothesis).

:func:`warm_views` builds the views of the usual queries when the app is created, so the first
page of a 100 000-document backlog costs what every other page does (no O(n log n) build inside
the first request, which would hold the event loop and the sender's timers for as long).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

from sortedcontainers import SortedList

from mock_server.core.indexes import TOP, SortKey, ascending, descending
from mock_server.core.store import Record, Table
from mock_server.web.filters import CollectionQuery, CollectionSpec, Predicate, Term, filed_value, parse_query

LOWER = {"after": False, "gte": False, "strictly_after": True, "gt": True}
"""Lower-bound operators -> strict?"""
UPPER = {"before": False, "lte": False, "strictly_before": True, "lt": True}
NOT_LISTED = object()
"""What ``IndexedSource.scope_of`` returns for a record no client lists."""


@dataclass(frozen=True)
class IndexedSource:
    """A collection as views of one table keyed by uuid: which records a client may list, and theirs.

    ``scope_of(record)`` is the value a record is listed under (an organization, None included),
    :data:`NOT_LISTED` for a record no client lists (a draft); ``name`` identifies that function
    among the table's views."""

    table: Table
    name: str
    scope_of: Callable[[Record], Hashable]
    scope: Hashable


def indexed_page(
    spec: CollectionSpec, query: CollectionQuery, source: IndexedSource
) -> tuple[list[Record], int] | None:
    """The page and the total the full scan would give, or None when the views cannot answer."""
    equal: dict[str, object] = {}
    bounds: list[Term] = []
    residual: list[Predicate] = []
    ordering = tuple(query.ordering or spec.default_order)
    for predicate, term in zip(query.predicates, query.terms, strict=True):
        if term is None:
            return None
        if term.kind == "eq":
            if term.name not in spec.indexed:
                return None
            equal[term.name] = term.value
        elif term.name == ordering[0][0]:
            bounds.append(term)
        else:
            residual.append(predicate)
    names = tuple(sorted(equal))
    view = source.table.view(
        (spec.path, source.name, names, ordering), _keyer(spec, source.scope_of, names, ordering)
    )
    group = view.group((source.scope, *(equal[name] for name in names)))
    start, end = _slice(group, bounds, descending_first=ordering[0][1])
    per_page, offset = query.items_per_page, (query.page - 1) * query.items_per_page
    get = source.table.get
    if residual:
        matching = [r for r in (get(k[-1]) for k in group.islice(start, end)) if r and all(p(r) for p in residual)]
        return (matching[offset : offset + per_page] if per_page else []), len(matching)
    total = max(0, end - start)
    if not per_page:
        return [], total
    keys = group.islice(start + offset, min(end, start + offset + per_page)) if offset < total else []
    return [record for record in (get(key[-1]) for key in keys) if record is not None], total


def warm_views(
    spec: CollectionSpec, source: IndexedSource, queries: Iterable[Sequence[tuple[str, str]]] = ((),)
) -> None:
    """Build now the views that ``queries`` (query-string pairs; default: the plain list) page from.

    A view files every scope, so the source's scope does not matter here."""
    for params in queries:
        indexed_page(spec, parse_query(spec, params), source)


def _keyer(
    spec: CollectionSpec, scope_of: Callable[[Record], Hashable], names: tuple[str, ...],
    ordering: tuple[tuple[str, bool], ...],
) -> Callable[[Record], tuple[Hashable, SortKey] | None]:  # fmt: skip
    filed = [filed_value(spec, name) for name in names]
    parts = [(spec.order[name], descending if desc else ascending) for name, desc in ordering]
    # Built for 100 000 records at start-up: the usual shapes (one order field, at most one filter)
    # skip the generic unpacking, which costs twice as much per record.
    if len(parts) == 1 and len(filed) <= 1:
        (getter, part), only = parts[0], (filed[0] if filed else None)

        def one_field(record: Record) -> tuple[Hashable, SortKey] | None:
            scope = scope_of(record)
            if scope is NOT_LISTED:
                return None
            group = (scope,) if only is None else (scope, only(record))
            return group, (part(getter(record)), str(record.get("uuid", "")))

        return one_field

    def keyer(record: Record) -> tuple[Hashable, SortKey] | None:
        scope = scope_of(record)
        if scope is NOT_LISTED:
            return None
        group = (scope, *[value(record) for value in filed])
        return group, (*[part(getter(record)) for getter, part in parts], str(record.get("uuid", "")))

    return keyer


def _slice(group: SortedList, bounds: list[Term], *, descending_first: bool) -> tuple[int, int]:
    """Positions [start, end) of the keys whose first order value lies within every bound (None excluded)."""
    if not bounds:
        return 0, len(group)
    bisect = group.bisect_left
    if not descending_first:  # keys start ((True, value), ...); None values ((False, 0), ...) come first
        start, end = bisect(((True,),)), len(group)
        for term in bounds:
            if term.op in LOWER:
                start = max(start, bisect(((True, term.value), TOP) if LOWER[term.op] else ((True, term.value),)))
            else:
                end = min(end, bisect(((True, term.value),) if UPPER[term.op] else ((True, term.value), TOP)))
        return start, end
    # keys start ((False, -value), ...); None values ((True, 0), ...) come last
    start, end = 0, bisect(((True,),))
    for term in bounds:
        negated = -term.value
        if term.op in UPPER:  # value <= b  <=>  -value >= -b
            start = max(start, bisect(((False, negated), TOP) if UPPER[term.op] else ((False, negated),)))
        else:
            end = min(end, bisect(((False, negated),) if LOWER[term.op] else ((False, negated), TOP)))
    return start, end

