"""API Platform's collection rules, shared by every list endpoint: filter, order, page, render.

Filters and their refusals are in :mod:`mock_server.web.filters`. ``application/json``: a plain
JSON array. ``Accept: application/ld+json``: an API Platform 4 Hydra collection (unprefixed:
``member``, ``totalItems``, ``view``), matching the unprefixed error bodies Askara documents.
Path uuids follow Symfony's route requirement (:mod:`mock_server.web.routing`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from mock_server.core.assumptions import COLLECTION_JSON_ARRAY, rely
from mock_server.core.errors import NotFound
from mock_server.core.store import Record
from mock_server.web.filters import MAX_ITEMS_PER_PAGE, CollectionQuery, CollectionSpec, parse_query
from mock_server.web.http import JSON, JSONLD, json_response, wants_jsonld
from mock_server.web.indexed import IndexedSource, indexed_page
from mock_server.web.routing import canonical_uuid

BODY_CACHE_LIMIT = 256
__all__ = ["MAX_ITEMS_PER_PAGE", "CollectionSpec", "IndexedSource", "collection_response", "item_response", "path_uuid"]


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
    source: IndexedSource | None = None,
) -> Response:
    """Parse, filter, order, paginate and render a collection as JSON or Hydra JSON-LD.

    With ``source`` the page comes from the store's sorted views when they can answer the query
    (:mod:`mock_server.web.indexed`); ``records`` (the visible records, same order as the table)
    is then iterated only for the queries they cannot answer.

    With ``cache_key`` the rendered body is memoised per (key, raw query string, media type) on
    the mock's context: the caller's key must change whenever the body could (the table
    ``version``, the client's organization, the expiry second of links in it). ``records`` is
    only iterated on a miss, so a lazy iterable skips the store scan too. Errors are not cached.
    """
    jsonld = wants_jsonld(request)
    if not jsonld:
        rely(request.scope, COLLECTION_JSON_ARRAY.id)
    cache: dict[Hashable, tuple[bytes, bool]] | None = None
    full_key: Hashable = None
    if cache_key is not None:
        cache = request.app.state.mock.caches.list_bodies
        full_key = (spec.path, cache_key, request.scope.get("query_string", b""), jsonld)
        hit = cache.get(full_key)
        if hit is not None:
            body_bytes, undocumented = hit
            if undocumented and spec.extras_assumption:
                rely(request.scope, spec.extras_assumption)
            return Response(body_bytes, media_type=JSONLD if jsonld else JSON)
    query = parse_query(spec, request.query_params.multi_items())
    if query.undocumented and spec.extras_assumption:
        rely(request.scope, spec.extras_assumption)
    response = _render_collection(spec, query, records, serialize, jsonld, source)
    if cache is not None:
        if len(cache) >= BODY_CACHE_LIMIT:
            cache.clear()
        cache[full_key] = (bytes(response.body), bool(query.undocumented))
    return response


def _render_collection(
    spec: CollectionSpec,
    query: CollectionQuery,
    records: Iterable[Record],
    serialize: Callable[[Record], dict[str, Any]],
    jsonld: bool,
    source: IndexedSource | None = None,
) -> Response:
    answer = indexed_page(spec, query, source) if source is not None else None
    page, total = answer if answer is not None else apply(spec, query, records)
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


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is not None, value if value is not None else 0)


def path_uuid(request: Request, what: str, name: str = "uuid") -> str:
    """The lower-case form of a uuid path parameter; any other form is a 404, as a Symfony route requirement gives."""
    raw = request.path_params[name]
    key = canonical_uuid(raw)
    if key is None:
        request.scope.setdefault("askara.note", {})["refused"] = "route"
        raise NotFound(
            f'{what} "{raw[:80]}" not found: the identifier is not a valid UUID '
            "(8-4-4-4-12 hexadecimal digits with dashes; no braces, no urn:uuid: prefix)."
        )
    return key
