"""The query parameters of a collection in OpenAPI, written from its :class:`CollectionSpec`.

Generated rather than written by hand, so the document says exactly what the mock accepts:
uuid and relation filters carry the pattern the mock checks (an empty value is refused, so
``allowEmptyValue`` is false), string filters allow the empty value (matched literally, as API
Platform's SearchFilter does), booleans list the four accepted spellings, date filters only the
operators the resource takes.
"""

from __future__ import annotations

from typing import Any

from mock_server.core.timefmt import ISO_DATE_PATTERN
from mock_server.web.filters import (
    BOOLEANS,
    ISO_RANGE_PATTERN,
    ORDER_PATTERN,
    CollectionSpec,
    iri_pattern,
)
from mock_server.web.openapi.parts import collection_params

STRING = {"type": "string"}


def _query(name: str, schema: dict[str, Any], description: str, *, empty: bool) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description, "allowEmptyValue": empty}


def _both_forms(name: str, schema: dict[str, Any], description: str, *, empty: bool) -> list[dict[str, Any]]:
    """``name=v`` and ``name[]=v1&name[]=v2``.

    ``name[]`` is described as one value that may be repeated, not as an array: a query string cannot
    tell an array's item types apart, so a fuzzer's "array of objects" would look valid on the wire.
    """
    several = description + f" Repeat {name}[]=v1&{name}[]=v2 for several values: any of them matches."
    return [_query(name, schema, description, empty=empty), _query(f"{name}[]", schema, several, empty=empty)]


def collection_parameters(spec: CollectionSpec) -> list[dict[str, Any]]:
    """page, itemsPerPage and every filter ``spec`` accepts, in a stable order."""
    params: list[dict[str, Any]] = []
    if spec.search is not None:
        params.append(_query("search", STRING, "Case- and accent-insensitive; every word must appear in one of the "
                                               "searched fields. Empty: no filter.", empty=True))  # fmt: skip
    for name in spec.exact:
        if spec.uuid_valued(name):
            prefix = spec.relations.get(name)
            form = f"a uuid or the IRI {prefix}{{uuid}}" if prefix else "a uuid"
            schema = {"type": "string", "pattern": iri_pattern(prefix)}
            params += _both_forms(name, schema, f"Exact filter: {form}; anything else (empty too) is a 400.",
                                  empty=False)
        else:
            params += _both_forms(name, STRING, "Exact filter, matched literally (an empty value matches only "
                                                "empty fields, as API Platform's SearchFilter does).", empty=True)
    for name in spec.exact_dates:
        schema = {"type": "string", "pattern": ISO_DATE_PATTERN}
        params += _both_forms(name, schema, "Exact filter on a date-time (ISO 8601).", empty=False)
    boolean = {"type": "string", "enum": list(BOOLEANS)}
    for name in spec.booleans:
        params.append(_query(name, boolean, "Exactly true, false, 1 or 0; anything else is a 400.", empty=False))
    for name in spec.exists:
        params.append(_query(f"exists[{name}]", boolean, f"{name} is (true) or is not (false) set.", empty=False))
    for name in spec.dates:
        for op in spec.date_operators:
            pattern = ISO_RANGE_PATTERN if op == "between" else ISO_DATE_PATTERN
            text = "START..END, both included" if op == "between" else "ISO 8601 date or date-time (UTC if no offset)"
            params.append(_query(f"{name}[{op}]", {"type": "string", "pattern": pattern}, text, empty=False))
    for name in spec.order:
        params.append(_query(f"order[{name}]", {"type": "string", "pattern": ORDER_PATTERN}, "asc or desc (any case)",
                             empty=False))  # fmt: skip
    return collection_params(*params)
