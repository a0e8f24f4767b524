"""The indexed query path returns exactly what the full scan returns (Hypothesis, against ``apply``).

Records, queries and the writes between them are generated: the view is built by the first query,
then maintained by ``put``/``save``/``delete``; after every write the indexed page and total must
equal the naive filter + sort + slice over the visible records. Both paths could share a mistake,
so the date bounds are also held to API Platform's rule itself (``ORACLE``), with a bound equal to
timestamps records have: ``after``/``before`` include that instant, ``strictly_*`` exclude it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server import create_app
from mock_server.api.documents import SPEC, _listed_under
from mock_server.core import store as store_module
from mock_server.core.store import Backend, Record, Table
from mock_server.core.timefmt import iso
from mock_server.web.collections import apply
from mock_server.web.filters import COMPARE, DATE_FILTER, parse_query
from mock_server.web.indexed import LOWER, UPPER, IndexedSource, indexed_page
from tests.conftest import access_token, make_settings

BASE = 1_780_000_000
UUIDS = [f"00000000-0000-4000-8000-{n:012d}" for n in range(40)]
PATIENTS = UUIDS[:3]
ORGS = ["org-a", "org-a", "org-a", "org-b", None]
DATES = ("createdAt", "updatedAt", "validatedAt", "synchronizedAt")

moment = st.integers(min_value=0, max_value=12).map(lambda n: BASE + n)
documents = st.fixed_dictionaries(
    {
        "uuid": st.sampled_from(UUIDS),
        "type": st.sampled_from(["referral_letter", "prescription", "x"]),
        "state": st.sampled_from(["verified", "verified", "verified", "draft"]),
        "_organization_id": st.sampled_from(ORGS),
        "synchronized": st.booleans(),
        "createdAt": moment,
        "updatedAt": moment,
        "validatedAt": st.one_of(st.none(), moment),
        "synchronizedAt": st.one_of(st.none(), moment),
        "patient": st.fixed_dictionaries(
            {"uuid": st.sampled_from(PATIENTS), "externalId": st.sampled_from([None, "", "PAT-1", "PAT-2"])}
        ),
    }
)
filters = st.lists(
    st.one_of(
        st.tuples(st.just("synchronized"), st.sampled_from(["true", "false", "1", "0"])),
        st.tuples(st.just("type"), st.sampled_from(["referral_letter", "prescription", "y"])),
        st.tuples(st.just("patient"), st.sampled_from([*PATIENTS, f"/patients/{PATIENTS[0]}"])),
        st.tuples(st.just("patient.externalId"), st.sampled_from(["", "PAT-1"])),
        st.tuples(st.just("uuid"), st.sampled_from(UUIDS[:5])),
        st.tuples(st.just("type[]"), st.sampled_from(["referral_letter", "x"])),  # several values: the scan path
        st.tuples(
            st.tuples(st.sampled_from(DATES), st.sampled_from(DATE_FILTER)).map(lambda t: f"{t[0]}[{t[1]}]"),
            moment.map(iso),
        ),
    ),
    max_size=2,
)
orders = st.lists(
    st.tuples(st.sampled_from([f"order[{name}]" for name in DATES]), st.sampled_from(["asc", "desc", "DESC"])),
    max_size=2,
)
paging = st.tuples(st.sampled_from([1, 1, 2]), st.sampled_from([0, 2, 5, 30, 30]))
writes = st.lists(
    st.tuples(st.sampled_from(["put", "save", "delete"]), documents, st.sampled_from(DATES)), max_size=8
)


def naive(table: Table, params: list[tuple[str, str]], organization: str | None) -> tuple[list[str], int]:
    visible = [r for r in table if r["state"] == "verified" and r["_organization_id"] == organization]
    page, total = apply(SPEC, parse_query(SPEC, params), visible)
    return [r["uuid"] for r in page], total


def indexed(table: Table, params: list[tuple[str, str]], organization: str | None) -> tuple[list[str], int] | None:
    source = IndexedSource(table, "verified-by-organization", _listed_under, organization)
    answer = indexed_page(SPEC, parse_query(SPEC, params), source)
    return None if answer is None else ([r["uuid"] for r in answer[0]], answer[1])


def write(table: Table, kind: str, doc: Record, field: str) -> None:
    current = table.get(doc["uuid"])
    if kind == "delete":
        table.delete(doc["uuid"])
    elif kind == "save" and current is not None:
        current.update({field: doc[field], "state": doc["state"], "synchronized": doc["synchronized"]})
        table.save(doc["uuid"])
    else:
        table.put(doc["uuid"], dict(doc))


@settings(max_examples=200, deadline=None)
@given(
    docs=st.lists(documents, min_size=3, max_size=25, unique_by=lambda d: d["uuid"]),
    params=filters,
    order=orders,
    page=paging,
    organization=st.sampled_from(ORGS),
    changes=writes,
)
def test_the_indexed_page_is_the_full_scan_page(
    docs: list[Record], params: list[tuple[str, str]], order: list[tuple[str, str]], page: tuple[int, int],
    organization: str | None, changes: list[tuple[str, Record, str]],
) -> None:  # fmt: skip
    table = Table("documents", Backend())
    for doc in docs:
        table.put(doc["uuid"], dict(doc))
    query = [*params, *order, ("page", str(page[0])), ("itemsPerPage", str(page[1]))]
    answered = indexed(table, query, organization)
    if answered is None:  # only queries naming a filter the views cannot hold fall back
        assert any(key == "type[]" for key, _ in params)
        return
    assert answered == naive(table, query, organization)
    for kind, doc, field in changes:
        write(table, kind, doc, field)
        assert indexed(table, query, organization) == naive(table, query, organization), (kind, doc)


def test_every_date_operator_is_a_lower_or_an_upper_bound() -> None:
    assert set(LOWER) | set(UPPER) == set(COMPARE) and not set(LOWER) & set(UPPER)


def test_a_broken_index_is_caught() -> None:
    """The comparison can fail: a record changed in place without ``save`` leaves the view stale."""
    table = Table("documents", Backend())
    doc: dict[str, Any] = {"uuid": UUIDS[0], "type": "x", "state": "verified", "_organization_id": None,
                           "synchronized": False, "createdAt": BASE, "updatedAt": BASE, "validatedAt": None,
                           "synchronizedAt": None, "patient": {"uuid": PATIENTS[0], "externalId": None}}  # fmt: skip
    table.put(doc["uuid"], doc)
    query = [("synchronized", "false")]
    assert indexed(table, query, None) == naive(table, query, None) == ([UUIDS[0]], 1)
    doc["synchronized"] = True  # no save: the store's rule broken on purpose
    assert indexed(table, query, None) != naive(table, query, None)
    table.save(doc["uuid"])
    assert indexed(table, query, None) == naive(table, query, None) == ([], 0)


ORACLE: dict[str, Callable[[int, int], bool]] = {
    "after": operator.ge, "before": operator.le, "strictly_after": operator.gt, "strictly_before": operator.lt,
}  # fmt: skip
"""API Platform's DateFilter, written out apart from the code under test; null dates never match."""


@settings(max_examples=200, deadline=None)
@given(
    docs=st.lists(documents, min_size=3, max_size=25, unique_by=lambda d: d["uuid"]),
    field=st.sampled_from(DATES),
    op=st.sampled_from(sorted(ORACLE)),
    pick=st.integers(min_value=0, max_value=24),
    order=st.tuples(st.sampled_from(DATES), st.sampled_from(["asc", "desc"])),
    organization=st.sampled_from(ORGS),
)
def test_date_bounds_at_a_timestamp_records_have(
    docs: list[Record], field: str, op: str, pick: int, order: tuple[str, str], organization: str | None
) -> None:
    """The bound is one of the generated timestamps (13 possible values for up to 25 records, so
    several records sit exactly on it): inclusive and strict operators must part there."""
    table = Table("documents", Backend())
    for doc in docs:
        table.put(doc["uuid"], dict(doc))
    present = [d[field] for d in docs if d[field] is not None]
    bound = present[pick % len(present)] if present else BASE
    query = [(f"{field}[{op}]", iso(bound)), (f"order[{order[0]}]", order[1]), ("itemsPerPage", "30")]
    visible = [d for d in docs if d["state"] == "verified" and d["_organization_id"] == organization]
    expected = {d["uuid"] for d in visible if d[field] is not None and ORACLE[op](d[field], bound)}
    answered = indexed(table, query, organization)
    assert answered is not None
    assert (set(answered[0]), answered[1]) == (expected, len(expected)), (field, op, bound)
    assert answered == naive(table, query, organization)


def test_the_views_are_built_when_the_app_is_created(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first page of a backlog costs what any page does: no view is built inside a request."""
    from starlette.testclient import TestClient

    settings_ = make_settings(seed_documents=50)
    app = create_app(settings_)

    def no_new_view(*args: object, **kwargs: object) -> None:
        raise AssertionError("a sorted view was built inside a request")

    monkeypatch.setattr(store_module, "View", no_new_view)
    with TestClient(app, base_url=settings_.base_url) as client:
        headers = {"Authorization": f"Bearer {access_token(client, 'read:documents read:notes profile')}"}
        for path in ("/documents", "/documents?synchronized=false", "/documents?synchronized=true&page=2",
                     "/notes", "/patients"):  # fmt: skip
            assert client.get(path, headers=headers).status_code == 200, path


def test_a_batch_rebuilds_the_views_once_at_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes inside ``Store.batch()`` leave the views alone; they match the table when it ends."""
    store = store_module.Store()
    table = store.documents
    first = {"uuid": UUIDS[0], "type": "x", "state": "verified", "_organization_id": None, "synchronized": False,
             "createdAt": BASE, "updatedAt": BASE, "validatedAt": None, "synchronizedAt": None,
             "patient": {"uuid": PATIENTS[0], "externalId": None}}  # fmt: skip
    table.put(first["uuid"], dict(first))
    query: list[tuple[str, str]] = [("synchronized", "false")]
    assert indexed(table, query, None) == ([UUIDS[0]], 1)
    calls: list[str] = []
    for method in ("update", "remove", "rebuild"):
        original = getattr(store_module.View, method)

        def spy(self: Any, *args: Any, _name: str = method, _original: Any = original) -> Any:
            calls.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(store_module.View, method, spy)
    with store.batch():
        for n, uuid in enumerate(UUIDS[1:10], start=1):
            table.put(uuid, {**first, "uuid": uuid, "createdAt": BASE + n})
        table.delete(UUIDS[0])
        assert calls == []
    assert calls == ["rebuild"]
    assert indexed(table, query, None) == naive(table, query, None)
    assert indexed(table, query, None) == (UUIDS[1:10], 9)
