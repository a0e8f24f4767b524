"""API Platform's collection rules, shared by every list endpoint.

* ``page`` (integer >= 1, default 1) and ``itemsPerPage`` (integer >= 0, default 20; above 100
  is capped to 100, as ``maximum_items_per_page`` does).
* ``order[field]=asc|desc`` on the fields a resource allows, in query order; the uuid breaks
  ties so pages never overlap. Default: ``createdAt`` ascending.
* exact filters (``field=v`` or ``field[]=v1&field[]=v2``; a relation also takes its IRI),
  boolean filters (``true|false|1|0``) and date filters with DateFilter names
  (``after``, ``before``, ``strictly_after``, ``strictly_before``) plus the range names the
  Askara reference pages show (``gt``, ``gte``, ``lt``, ``lte``, ``between=a..b``).
* ``application/json``: a plain JSON array. ``Accept: application/ld+json``: an API Platform 4
  Hydra collection (unprefixed: ``member``, ``totalItems``, ``view``), matching the unprefixed
  error bodies Askara documents.

A bad value of a known parameter is a 400 naming it; unknown parameters are ignored.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from mock_server.core.assumptions import COLLECTION_JSON_ARRAY, rely
from mock_server.core.errors import BadRequest, NotFound, Violation
from mock_server.core.store import Record
from mock_server.core.timefmt import parse_iso
from mock_server.web.http import JSON, JSONLD, json_response, wants_jsonld

Getter = Callable[[Record], Any]
DEFAULT_ITEMS_PER_PAGE = 20
MAX_ITEMS_PER_PAGE = 100
DATE_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "after": lambda value, bound: value >= bound,
    "before": lambda value, bound: value <= bound,
    "strictly_after": lambda value, bound: value > bound,
    "strictly_before": lambda value, bound: value < bound,
    "gte": lambda value, bound: value >= bound,
    "lte": lambda value, bound: value <= bound,
    "gt": lambda value, bound: value > bound,
    "lt": lambda value, bound: value < bound,
}
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_BRACKETS = re.compile(r"^([^\[\]]+)\[([^\[\]]*)\]$")
BODY_CACHE_LIMIT = 256


@dataclass(frozen=True)
class CollectionSpec:
    """What one resource's collection lets a client filter and order on."""

    resource: str
    """JSON-LD type, e.g. ``Document``."""
    path: str
    """Collection IRI, e.g. ``/documents``; items are ``{path}/{uuid}``."""
    exact: Mapping[str, Getter] = field(default_factory=dict)
    booleans: Mapping[str, Getter] = field(default_factory=dict)
    dates: Mapping[str, Getter] = field(default_factory=dict)
    """Getters return epoch seconds or None."""
    order: Mapping[str, Getter] = field(default_factory=dict)
    relations: Mapping[str, str] = field(default_factory=dict)
    """Exact filter -> IRI prefix (``/patients/``) a client may send instead of the bare uuid."""
    default_order: tuple[tuple[str, bool], ...] = (("createdAt", False),)

    def iri(self, key: str) -> str:
        return f"{self.path}/{key}"


@dataclass
class CollectionQuery:
    page: int = 1
    items_per_page: int = DEFAULT_ITEMS_PER_PAGE
    predicates: list[Callable[[Record], bool]] = field(default_factory=list)
    ordering: list[tuple[str, bool]] = field(default_factory=list)
    """(field, descending) pairs in the order the client gave them."""
    params: list[tuple[str, str]] = field(default_factory=list)


def parse_query(spec: CollectionSpec, params: Iterable[tuple[str, str]]) -> CollectionQuery:
    """Read the query string: pagination, order, filters; 400 on a bad value of a known parameter."""
    query = CollectionQuery(params=list(params))
    exact: dict[str, list[str]] = {}
    dates: dict[tuple[str, str], str] = {}
    booleans: dict[str, str] = {}
    ordering: dict[str, bool] = {}
    for key, value in query.params:
        match = _BRACKETS.match(key)
        name, sub = (match.group(1), match.group(2)) if match else (key, None)
        if key == "page":
            query.page = _integer(key, value, minimum=1, rule="Page should not be less than 1.")
        elif key == "itemsPerPage":
            per_page = _integer(key, value, minimum=0, rule="Item per page parameter should not be less than 0.")
            query.items_per_page = min(per_page, MAX_ITEMS_PER_PAGE)
        elif name == "order" and sub is not None:
            ordering.pop(sub, None)
            ordering[sub] = _direction(spec, key, sub, value)
        elif name in spec.dates and sub is not None:
            if sub not in DATE_OPERATORS and sub != "between":
                allowed = ", ".join([*DATE_OPERATORS, "between"])
                _bad(key, f"Unknown date filter operator {sub!r}; use one of {allowed}.", "date_operator")
            dates[(name, sub)] = value
        elif key in spec.booleans:
            booleans[key] = value
        elif name in spec.exact and sub in (None, ""):
            if sub is None:
                exact[name] = [value]
            else:
                exact.setdefault(name, []).append(value)
    for name, raw in booleans.items():
        if raw.lower() not in BOOLEANS:
            _bad(name, f"The value {raw!r:.60} is not a boolean; use true, false, 1 or 0.", "boolean")
        query.predicates.append(_equals_bool(spec.booleans[name], BOOLEANS[raw.lower()]))
    for name, values in exact.items():
        prefix = spec.relations.get(name)
        wanted = {_strip_iri(v, prefix) for v in values}
        query.predicates.append(_equals_any(spec.exact[name], wanted))
    for (name, op), raw in dates.items():
        query.predicates.extend(_date_predicates(spec.dates[name], f"{name}[{op}]", op, raw))
    query.ordering = list(ordering.items())
    return query


def apply(spec: CollectionSpec, query: CollectionQuery, records: Iterable[Record]) -> tuple[list[Record], int]:
    """The requested page of the filtered, ordered records, and how many matched in all."""
    predicates = query.predicates
    if not predicates:
        matching = list(records)  # no filter (the usual list): skip a generator per record
    elif len(predicates) == 1:
        matching = list(filter(predicates[0], records))
    else:
        matching = [r for r in records if all(check(r) for check in predicates)]
    ordered = sort_records(spec, matching, query.ordering or list(spec.default_order))
    if query.items_per_page == 0:
        return [], len(ordered)
    start = (query.page - 1) * query.items_per_page
    return ordered[start : start + query.items_per_page], len(ordered)


def sort_records(spec: CollectionSpec, records: list[Record], ordering: list[tuple[str, bool]]) -> list[Record]:
    """Stable multi-key sort; None sorts first ascending, last descending; uuid ascending breaks ties."""
    result = sorted(records, key=lambda r: str(r.get("uuid", "")))
    for name, descending in reversed(ordering):
        getter = spec.order[name]
        result.sort(key=lambda r, g=getter: _sort_key(g(r)), reverse=descending)  # type: ignore[misc]
    return result


def collection_response(
    request: Request,
    spec: CollectionSpec,
    records: Iterable[Record],
    serialize: Callable[[Record], dict[str, Any]],
    *,
    cache_key: Hashable | None = None,
) -> Response:
    """Parse, filter, order, paginate and render a collection as JSON or Hydra JSON-LD.

    With ``cache_key`` the rendered body is memoised per (key, raw query string, media type) on
    the mock's context: the caller's key must change whenever the body could (the table
    ``version``, the client's organization, the expiry second of links in it). ``records`` is
    only iterated on a miss, so a lazy iterable skips the store scan too. Errors are not cached.
    """
    jsonld = wants_jsonld(request)
    if not jsonld:
        rely(request.scope, COLLECTION_JSON_ARRAY.id)
    cache: dict[Hashable, bytes] | None = None
    full_key: Hashable = None
    if cache_key is not None:
        cache = request.app.state.mock.caches.list_bodies
        full_key = (spec.path, cache_key, request.scope.get("query_string", b""), jsonld)
        body_bytes = cache.get(full_key)
        if body_bytes is not None:
            return Response(body_bytes, media_type=JSONLD if jsonld else JSON)
    response = _render_collection(request, spec, records, serialize, jsonld)
    if cache is not None:
        if len(cache) >= BODY_CACHE_LIMIT:
            cache.clear()
        cache[full_key] = response.body
    return response


def _render_collection(
    request: Request,
    spec: CollectionSpec,
    records: Iterable[Record],
    serialize: Callable[[Record], dict[str, Any]],
    jsonld: bool,
) -> Response:
    query = parse_query(spec, request.query_params.multi_items())
    page, total = apply(spec, query, records)
    if not jsonld:
        return json_response([serialize(r) for r in page])
    members = [jsonld_item(spec, r["uuid"], serialize(r), context=False) for r in page]
    body: dict[str, Any] = {
        "@context": f"/contexts/{spec.resource}",
        "@id": spec.path,
        "@type": "Collection",
        "totalItems": total,
        "member": members,
    }
    view = hydra_view(spec, query, total)
    if view is not None:
        body["view"] = view
    return json_response(body, media_type=JSONLD)


def hydra_view(spec: CollectionSpec, query: CollectionQuery, total: int) -> dict[str, Any] | None:
    """The PartialCollectionView, present only when the collection spans pages."""
    per_page = query.items_per_page
    if per_page == 0:
        return None
    last = max(1, math.ceil(total / per_page))
    if last == 1 and query.page == 1:
        return None
    kept = [(k, v) for k, v in query.params if k != "page"]

    def url(page: int) -> str:
        return f"{spec.path}?{urlencode([*kept, ('page', str(page))])}"

    view: dict[str, Any] = {"@id": url(query.page), "@type": "PartialCollectionView"}
    view.update({"first": url(1), "last": url(last)})
    if query.page > 1:
        view["previous"] = url(query.page - 1)
    if query.page < last:
        view["next"] = url(query.page + 1)
    return view


def jsonld_item(spec: CollectionSpec, key: str, body: dict[str, Any], *, context: bool = True) -> dict[str, Any]:
    """``body`` with the JSON-LD keys API Platform puts on an item."""
    head: dict[str, Any] = {"@context": f"/contexts/{spec.resource}"} if context else {}
    head.update({"@id": spec.iri(key), "@type": spec.resource})
    return {**head, **body}


def item_response(request: Request, spec: CollectionSpec, key: str, body: dict[str, Any], status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    """One item as JSON, or JSON-LD with ``@context``/``@id``/``@type`` for ld+json clients."""
    if wants_jsonld(request):
        return json_response(jsonld_item(spec, key, body), status, headers=headers, media_type=JSONLD)
    return json_response(body, status, headers=headers)


# -- helpers -----------------------------------------------------------------------------------


def _bad(parameter: str, message: str, code: str) -> NoReturn:
    raise BadRequest(f'Query parameter "{parameter}": {message}', violations=[Violation(parameter, message, code)])


def _integer(parameter: str, raw: str, *, minimum: int, rule: str) -> int:
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d{1,18}", text):
        _bad(parameter, f"The value {raw!r:.60} is not an integer (of at most 18 digits).", "integer")
    value = int(text)
    if value < minimum:
        _bad(parameter, f"{rule} Got {value}.", "range")
    return value


def _direction(spec: CollectionSpec, parameter: str, field_name: str, raw: str) -> bool:
    if field_name not in spec.order:
        allowed = ", ".join(spec.order)
        _bad(parameter, f"The collection cannot be ordered by {field_name!r}; allowed: {allowed}.", "order_field")
    direction = raw.strip().lower()
    if direction not in ("asc", "desc"):
        _bad(parameter, f"The direction {raw!r:.60} is not valid; use asc or desc.", "order_direction")
    return direction == "desc"


def _parse_date(parameter: str, raw: str) -> float:
    try:
        return parse_iso(raw)
    except (ValueError, OverflowError, OSError):
        _bad(parameter, f"The value {raw!r:.60} is not a valid ISO 8601 date (e.g. 2026-02-17T10:30:00Z).", "date")


def _date_predicates(getter: Getter, parameter: str, op: str, raw: str) -> list[Callable[[Record], bool]]:
    if op == "between":
        low_raw, sep, high_raw = raw.partition("..")
        if not sep:
            _bad(parameter, f"The value {raw!r:.60} is not a range; use START..END.", "date_range")
        bounds = [("gte", _parse_date(parameter, low_raw)), ("lte", _parse_date(parameter, high_raw))]
    else:
        bounds = [(op, _parse_date(parameter, raw))]
    predicates: list[Callable[[Record], bool]] = []
    for name, bound in bounds:
        compare = DATE_OPERATORS[name]

        def check(record: Record, compare: Callable[[float, float], bool] = compare, bound: float = bound) -> bool:
            value = getter(record)
            return value is not None and compare(float(value), bound)

        predicates.append(check)
    return predicates


def _equals_bool(getter: Getter, wanted: bool) -> Callable[[Record], bool]:
    return lambda record: bool(getter(record)) is wanted


def _equals_any(getter: Getter, wanted: set[str]) -> Callable[[Record], bool]:
    def check(record: Record) -> bool:
        value = getter(record)
        return value is not None and str(value) in wanted

    return check


def _strip_iri(value: str, prefix: str | None) -> str:
    """``/patients/{uuid}`` (or an absolute URL ending so) -> ``{uuid}`` for relation filters."""
    if prefix and prefix in value:
        return value.rsplit(prefix, 1)[1]
    return value


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is not None, value if value is not None else 0)


def path_uuid(request: Request, what: str, name: str = "uuid") -> str:
    """The canonical form of a uuid path parameter; a malformed one is a 404, as API Platform answers."""
    raw = request.path_params[name]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise NotFound(f'{what} "{raw[:80]}" not found: the identifier is not a valid UUID.') from None
