"""API Platform's collection filters, strictly: what one resource accepts, and the 400 for everything else.

* ``page`` (integer >= 1) and ``itemsPerPage`` (integer >= 0; above 100 capped to 100).
* ``order[field]=asc|desc`` (any case) on the fields a resource allows, in query order.
* exact filters: ``field=v`` or ``field[]=v1&field[]=v2``. A string field matches its value
  literally, the empty value included (API Platform's ``SearchFilter`` keeps ``""``). A uuid or
  relation filter takes a canonical uuid (a relation also its IRI, ``/patients/{uuid}``); anything
  else, ``""`` included, is a 400: production would drop such a filter or fail on it.
* boolean and ``exists[field]`` filters take exactly ``true``, ``false``, ``1`` or ``0``.
* date filters with the operators the resource documents: DateFilter names (``after``,
  ``before``, ``strictly_after``, ``strictly_before``) or the range names of Askara's reference
  pages (``gt``, ``gte``, ``lt``, ``lte``, ``between=START..END``), never both.
* ``search``: case- and accent-insensitive; every word must appear in one of the searched fields.

API Platform silently drops a filter it cannot read (a bad boolean, an undeclared operator, an
unparsable date) and returns the whole collection; the mock answers 400 naming the parameter and
the rule instead, so a poller finds out here. A documented filter the mock does not implement is
a 400 "not mocked". Parameters no resource knows are ignored, as API Platform does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from mock_server.core.errors import BadRequest, Violation
from mock_server.core.store import Record
from mock_server.core.timefmt import ISO_DATE, parse_iso
from mock_server.web.routing import UUID_PATTERN, canonical_uuid


def field_of(name: str) -> Callable[[Record], Any]:
    """``record.get(name)``, for the filter and order tables of a collection spec."""
    return lambda record: record.get(name)

Getter = Callable[[Record], Any]
Predicate = Callable[[Record], bool]
DEFAULT_ITEMS_PER_PAGE = 20
MAX_ITEMS_PER_PAGE = 100
LARGEST_INTEGER = 10**18 - 1
"""The largest page or itemsPerPage read (18 digits); a longer number is a 400, not an overflow."""
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "after": lambda value, bound: value >= bound,
    "before": lambda value, bound: value <= bound,
    "strictly_after": lambda value, bound: value > bound,
    "strictly_before": lambda value, bound: value < bound,
    "gte": lambda value, bound: value >= bound,
    "lte": lambda value, bound: value <= bound,
    "gt": lambda value, bound: value > bound,
    "lt": lambda value, bound: value < bound,
}
DATE_FILTER = ("after", "before", "strictly_after", "strictly_before")
"""API Platform's DateFilter operators (notes, documents, webhooks)."""
RANGE = ("between", "gt", "gte", "lt", "lte")
"""The operators Askara's reference pages show for patients and audios."""
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
ISO_RANGE_PATTERN = f"^{ISO_DATE}[.][.]{ISO_DATE}$"
ORDER_PATTERN = "^(?:[aA][sS][cC]|[dD][eE][sS][cC])$"
_BRACKETS = re.compile(r"^([^\[\]]+)\[([^\[\]]*)\]$")


def iri_pattern(prefix: str | None) -> str:
    """The regex (JSON Schema flavour too) of a uuid filter value: a uuid, or ``prefix`` + uuid (absolute or not)."""
    if prefix is None:
        return f"^{UUID_PATTERN}$"
    return f"^(?:(?:https?://[^/?#]+)?{re.escape(prefix)})?{UUID_PATTERN}$"


@dataclass(frozen=True)
class CollectionSpec:
    """What one resource's collection lets a client filter and order on."""

    resource: str
    """JSON-LD type, e.g. ``Document``."""
    path: str
    """Collection IRI, e.g. ``/documents``; items are ``{path}/{uuid}``."""
    exact: Mapping[str, Getter] = field(default_factory=dict)
    """A getter may return a list (a to-many relation): any element matching is a match."""
    uuid_filters: frozenset[str] = frozenset()
    """Exact filters whose values must be uuids (relations are too)."""
    relations: Mapping[str, str] = field(default_factory=dict)
    """Exact filter -> IRI prefix (``/patients/``) a client may send instead of the bare uuid."""
    exact_dates: Mapping[str, Getter] = field(default_factory=dict)
    """Exact filters on a date-time (getter: epoch seconds); the value is parsed, then compared."""
    booleans: Mapping[str, Getter] = field(default_factory=dict)
    exists: Mapping[str, Getter] = field(default_factory=dict)
    """``exists[field]``: the getter's value is not None."""
    dates: Mapping[str, Getter] = field(default_factory=dict)
    """Getters return epoch seconds or None."""
    date_operators: tuple[str, ...] = DATE_FILTER
    order: Mapping[str, Getter] = field(default_factory=dict)
    search: Callable[[Record], Iterable[str | None]] | None = None
    """The texts ``search`` looks in; None: no ``search`` parameter."""
    not_mocked: frozenset[str] = frozenset()
    """Documented parameters the mock refuses (``id``, ``order[id]``...) rather than ignore."""
    documented: frozenset[str] | None = None
    """Parameter keys Askara documents (``field``, ``createdAt[after]``, ``order[createdAt]``); None: all."""
    extras_assumption: str | None = None
    """The assumption relied on when a request uses an accepted but undocumented parameter."""
    default_order: tuple[tuple[str, bool], ...] = (("createdAt", False),)
    indexed: frozenset[str] = frozenset()
    """Exact and boolean filters whose getter returns one scalar: the store's sorted views may answer
    them (:mod:`mock_server.web.indexed`); a filter left out is tested record by record."""

    def iri(self, key: str) -> str:
        return f"{self.path}/{key}"

    def uuid_valued(self, name: str) -> bool:
        return name in self.uuid_filters or name in self.relations


@dataclass(frozen=True)
class Term:
    """What one predicate tests, for the indexed path: ``name`` equals ``value`` (``eq``, the value as
    :func:`filed_value` files it) or ``name``'s date compares to the bound ``value`` (``op``)."""

    kind: str
    name: str
    value: Any
    op: str = ""


@dataclass
class CollectionQuery:
    page: int = 1
    items_per_page: int = DEFAULT_ITEMS_PER_PAGE
    predicates: list[Predicate] = field(default_factory=list)
    terms: list[Term | None] = field(default_factory=list)
    """One per predicate: what it tests, or None when only the predicate can tell (search, several values)."""
    ordering: list[tuple[str, bool]] = field(default_factory=list)
    """(field, descending) pairs in the order the client gave them."""
    params: list[tuple[str, str]] = field(default_factory=list)
    undocumented: list[str] = field(default_factory=list)
    """Accepted parameters Askara does not document (the spec's ``extras_assumption`` applies)."""


def parse_query(spec: CollectionSpec, params: Iterable[tuple[str, str]]) -> CollectionQuery:
    """Read the query string: pagination, order, filters; 400 on anything a known parameter cannot take."""
    query = CollectionQuery(params=list(params))
    exact: dict[str, list[str]] = {}
    singles: dict[str, tuple[str, str]] = {}
    """boolean / exists / search parameter -> (key as sent, last value): PHP keeps the last."""
    dates: dict[tuple[str, str], str] = {}
    ordering: dict[str, bool] = {}
    for key, value in query.params:
        match = _BRACKETS.match(key)
        name, sub = (match.group(1), match.group(2)) if match else (key, None)
        if key in ("page", "itemsPerPage"):
            if key == "page":
                query.page = _integer(key, value, minimum=1, rule="Page should not be less than 1.")
            else:
                rule = "Item per page parameter should not be less than 0."
                query.items_per_page = min(_integer(key, value, minimum=0, rule=rule), MAX_ITEMS_PER_PAGE)
            continue
        if key in spec.not_mocked or name in spec.not_mocked:
            _not_mocked(spec, key)
        if name == "order" and (spec.order or sub is not None):
            if sub is None or sub == "":
                _bad(key, "Order a collection with order[field]=asc|desc.", "order_form")
            ordering.pop(sub, None)
            ordering[sub] = _direction(spec, key, sub, value)
        elif name == "exists" and spec.exists:
            if sub not in spec.exists:
                allowed = ", ".join(f"exists[{n}]" for n in spec.exists)
                _bad(key, f"{spec.path} accepts {allowed}.", "exists_field")
            singles[f"exists[{sub}]"] = (key, value)
        elif name == "search" and spec.search is not None:
            if sub is not None:
                _bad(key, "search takes one value: search=words.", "search_form")
            singles["search"] = (key, value)
        elif name in spec.dates:
            if sub not in spec.date_operators:
                allowed = ", ".join(f"{name}[{op}]" for op in spec.date_operators)
                got = "no operator" if sub is None else f"the operator {sub!r}"
                _bad(key, f"{spec.path} does not filter {name} with {got}; it accepts {allowed}.", "date_operator")
            dates[(name, sub)] = value
        elif name in spec.booleans:
            if sub is not None:
                _bad(key, f"{name} takes one value: {name}=true|false|1|0.", "boolean_form")
            singles[name] = (key, value)
        elif name in spec.exact or name in spec.exact_dates:
            if sub not in (None, ""):
                _bad(key, f"{name} is an exact filter: {name}=value or {name}[]=v1&{name}[]=v2.", "exact_form")
            if sub is None:
                exact[name] = [value]
            else:
                exact.setdefault(name, []).append(value)
        else:
            continue
        documented_key = f"{name}[{sub}]" if sub else name
        if spec.documented is not None and documented_key not in spec.documented:
            query.undocumented.append(key)
    for name, (key, raw) in singles.items():
        query.predicates.append(_single(spec, name, key, raw))
        query.terms.append(Term("eq", name, _boolean(key, raw)) if name in spec.booleans else None)
    for name, values in exact.items():
        query.predicates.append(_exact(spec, name, values))
        single = len(values) == 1 and name in spec.exact
        query.terms.append(Term("eq", name, _exact_value(spec, name, name, values[0])) if single else None)
    for (name, op), raw in dates.items():
        bounds = _bounds(f"{name}[{op}]", op, raw)
        query.predicates.extend(_date_predicates(spec.dates[name], bounds))
        query.terms.extend(Term("range", name, bound, bound_op) for bound_op, bound in bounds)
    query.ordering = list(ordering.items())
    return query


def filed_value(spec: CollectionSpec, name: str) -> Getter:
    """What a record is filed under for the ``eq`` filter ``name``: the value an equal query term holds."""
    if name in spec.booleans:
        boolean = spec.booleans[name]
        return lambda record: bool(boolean(record))
    getter = spec.exact[name]

    def value(record: Record) -> str | None:
        raw = getter(record)
        return None if raw is None else str(raw)

    return value


def fold(text: str) -> str:
    """Case- and accent-insensitive form: ``Hélène`` and ``HELENE`` both give ``helene``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# -- helpers -----------------------------------------------------------------------------------


def _bad(parameter: str, message: str, code: str) -> NoReturn:
    raise BadRequest(f'Query parameter "{parameter}": {message}', violations=[Violation(parameter, message, code)])


def _not_mocked(spec: CollectionSpec, key: str) -> NoReturn:
    _bad(key, f"documented by Askara for {spec.path} but not mocked; the mock refuses it rather than ignore it "
              f"(an ignored filter returns the whole collection).", "not_mocked")  # fmt: skip


def _integer(parameter: str, raw: str, *, minimum: int, rule: str) -> int:
    text = raw.strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
        _bad(parameter, f"The value {raw!r:.60} is not an integer (of at most 18 digits).", "integer")
    value = int(text)
    if value < minimum:
        _bad(parameter, f"{rule} Got {value}.", "range")
    return value


def _direction(spec: CollectionSpec, parameter: str, field_name: str, raw: str) -> bool:
    if field_name not in spec.order:
        allowed = ", ".join(spec.order)
        _bad(parameter, f"The collection cannot be ordered by {field_name!r}; allowed: {allowed}.", "order_field")
    direction = raw.lower()
    if direction not in ("asc", "desc"):
        _bad(parameter, f"The direction {raw!r:.60} is not valid; use asc or desc.", "order_direction")
    return direction == "desc"


def _boolean(parameter: str, raw: str) -> bool:
    if raw not in BOOLEANS:
        _bad(parameter, f"The value {raw!r:.60} is not accepted; use exactly true, false, 1 or 0 (lower case). "
                        "Askara (API Platform's BooleanFilter) silently drops such a filter and returns the whole "
                        "collection.", "boolean")  # fmt: skip
    return BOOLEANS[raw]


def _single(spec: CollectionSpec, name: str, key: str, raw: str) -> Predicate:
    if name == "search":
        assert spec.search is not None
        return _search(spec.search, raw)
    if name.startswith("exists["):
        getter, wanted = spec.exists[name[7:-1]], _boolean(key, raw)
        return lambda record: (getter(record) is not None) is wanted
    getter, flag = spec.booleans[name], _boolean(key, raw)
    return lambda record: bool(getter(record)) is flag


def _search(texts: Callable[[Record], Iterable[str | None]], raw: str) -> Predicate:
    words = fold(raw).split()

    def check(record: Record) -> bool:
        haystack = [fold(text) for text in texts(record) if text]
        return all(any(word in text for text in haystack) for word in words)

    return check


def _exact(spec: CollectionSpec, name: str, values: list[str]) -> Predicate:
    parameter = name if len(values) == 1 else f"{name}[]"
    if name in spec.exact_dates:
        getter = spec.exact_dates[name]
        bounds = {_parse_date(parameter, v) for v in values}
        return lambda record: getter(record) is not None and float(getter(record)) in bounds
    getter = spec.exact[name]
    wanted = {_exact_value(spec, name, parameter, v) for v in values}

    def check(record: Record) -> bool:
        value = getter(record)
        if isinstance(value, list):
            return any(str(v) in wanted for v in value)
        return value is not None and str(value) in wanted

    return check


def _exact_value(spec: CollectionSpec, name: str, parameter: str, raw: str) -> str:
    return _uuid_value(spec, name, parameter, raw) if spec.uuid_valued(name) else raw


def _uuid_value(spec: CollectionSpec, name: str, parameter: str, raw: str) -> str:
    prefix = spec.relations.get(name)
    match = re.fullmatch(iri_pattern(prefix), raw)
    key = canonical_uuid(raw[-36:]) if match else None
    if key is None:
        form = f"a uuid or its IRI {prefix}{{uuid}}" if prefix else "a uuid (8-4-4-4-12 hexadecimal digits)"
        _bad(parameter, f"The value {raw!r:.80} is not {form}.", "uuid")
    return key


def _parse_date(parameter: str, raw: str) -> float:
    try:
        if not re.fullmatch(ISO_DATE, raw):
            raise ValueError(raw)
        return parse_iso(raw)
    except (ValueError, OverflowError, OSError):
        _bad(parameter, f"The value {raw!r:.60} is not a valid ISO 8601 date (e.g. 2026-02-17T10:30:00Z).", "date")


def _bounds(parameter: str, op: str, raw: str) -> list[tuple[str, float]]:
    """(operator, epoch bound) pairs of one date parameter; ``between`` is ``gte`` and ``lte``."""
    if op == "between":
        low_raw, sep, high_raw = raw.partition("..")
        if not sep:
            _bad(parameter, f"The value {raw!r:.60} is not a range; use START..END.", "date_range")
        return [("gte", _parse_date(parameter, low_raw)), ("lte", _parse_date(parameter, high_raw))]
    return [(op, _parse_date(parameter, raw))]


def _date_predicates(getter: Getter, bounds: list[tuple[str, float]]) -> list[Predicate]:
    predicates: list[Predicate] = []
    for name, bound in bounds:
        compare = COMPARE[name]

        def check(record: Record, compare: Callable[[float, float], bool] = compare, bound: float = bound) -> bool:
            value = getter(record)
            return value is not None and compare(float(value), bound)

        predicates.append(check)
    return predicates
