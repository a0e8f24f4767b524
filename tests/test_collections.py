"""API Platform collection rules: the pagination property (Hypothesis) and the edge cases."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import access_token
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mock_server import domain
from mock_server.web.collections import MAX_ITEMS_PER_PAGE

TYPES = list(domain.DOCUMENT_TYPES)
ORDERS = [None, ("createdAt", "asc"), ("createdAt", "desc"), ("validatedAt", "desc"), ("updatedAt", "asc")]

documents = st.lists(
    st.tuples(st.sampled_from(TYPES), st.booleans(), st.integers(min_value=0, max_value=2)), max_size=30
)


def _expected(docs: list[dict[str, Any]], synchronized: bool | None, kind: str | None, order: Any) -> list[str]:
    """The whole filtered, ordered list, computed without the mock's code: order field, then uuid."""
    kept = [d for d in docs if (synchronized is None or d["synchronized"] is synchronized)
            and (kind is None or d["type"] == kind)]  # fmt: skip
    name, direction = order or ("createdAt", "asc")
    sign = -1 if direction == "desc" else 1
    return [d["uuid"] for d in sorted(kept, key=lambda d: (sign * d[name], d["uuid"]))]


def test_pages_concatenated_equal_the_whole_filtered_ordered_list(app_client: Any) -> None:
    client: TestClient = app_client(seed_documents=0, rate_limit_capacity=0)
    ctx = client.app.state.mock  # type: ignore[attr-defined]

    @given(
        docs=documents,
        per_page=st.one_of(
            st.integers(min_value=1, max_value=7), st.integers(min_value=1, max_value=MAX_ITEMS_PER_PAGE)
        ),
        synchronized=st.sampled_from([None, True, False]),
        kind=st.sampled_from([None, *TYPES]),
        order=st.sampled_from(ORDERS),
    )
    def check(docs: list[Any], per_page: int, synchronized: bool | None, kind: str | None, order: Any) -> None:
        ctx.store.documents.clear()
        for doc_type, synced, gap in docs:
            doc = domain.new_document(ctx, overrides={"type": doc_type})
            ctx.clock.advance(gap)
            domain.validate_document(ctx, doc)
            if synced:
                doc.update({"synchronized": True, "synchronizedAt": int(ctx.clock.now())})
                ctx.store.documents.save(doc["uuid"])  # the store's rule: changed in place, then saved
        headers = {"Authorization": f"Bearer {access_token(client, 'read:documents')}", "Accept": "application/ld+json"}
        params: dict[str, Any] = {"itemsPerPage": per_page}
        if synchronized is not None:
            params["synchronized"] = "true" if synchronized else "false"
        if kind is not None:
            params["type"] = kind
        if order is not None:
            params[f"order[{order[0]}]"] = order[1]
        expected = _expected(ctx.store.documents.values(), synchronized, kind, order)

        first = client.get("/documents", params=params, headers=headers)
        assert first.status_code == 200, first.text
        body = first.json()
        seen, pages = [m["uuid"] for m in body["member"]], 1
        while "view" in body and "next" in body["view"]:
            body = client.get(body["view"]["next"], headers=headers).json()
            assert body["totalItems"] == len(expected)
            seen += [m["uuid"] for m in body["member"]]
            pages += 1
        assert first.json()["totalItems"] == len(expected)
        assert seen == expected
        assert pages == max(1, -(-len(expected) // per_page))

        plain, page = [], 1
        while True:
            chunk = client.get(
                "/documents", params={**params, "page": page}, headers={"Authorization": headers["Authorization"]}
            ).json()
            if not chunk:
                break
            plain += [d["uuid"] for d in chunk]
            page += 1
        assert plain == expected

    check()


def _reader(client: TestClient, ld: bool = True) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {access_token(client, 'read:documents')}"}
    if ld:
        headers["Accept"] = "application/ld+json"
    return headers


def test_items_per_page_is_capped_at_100(app_client: Any) -> None:
    client = app_client(seed_documents=105, seed_patients=3, seed_notes=0)
    body = client.get("/documents", params={"itemsPerPage": 1000}, headers=_reader(client)).json()
    assert len(body["member"]) == 100 and body["totalItems"] == 105
    assert body["view"]["last"] == "/documents?itemsPerPage=1000&page=2"
    default = client.get("/documents", headers=_reader(client)).json()
    assert len(default["member"]) == 20
    assert default["view"]["next"] == "/documents?page=2" and "previous" not in default["view"]


def test_zero_items_per_page_and_pages_past_the_end(client: TestClient) -> None:
    body = client.get("/documents", params={"itemsPerPage": 0}, headers=_reader(client)).json()
    assert body["member"] == [] and body["totalItems"] == client.app.state.mock.settings.seed_documents  # type: ignore[attr-defined]
    past = client.get("/documents", params={"page": 99, "itemsPerPage": 5}, headers=_reader(client)).json()
    assert past["member"] == []
    assert past["view"]["previous"] == "/documents?itemsPerPage=5&page=98" and "next" not in past["view"]
    assert client.get("/documents", params={"page": 99}, headers=_reader(client, ld=False)).json() == []


def test_no_view_on_a_single_page(client: TestClient) -> None:
    body = client.get("/documents", params={"synchronized": "false"}, headers=_reader(client)).json()
    assert "view" not in body
    assert all(m["@id"] == f"/documents/{m['uuid']}" and m["@type"] == "Document" for m in body["member"])
    assert body["@context"] == "/contexts/Document" and body["@type"] == "Collection"


def test_date_filter_boundaries(client: TestClient) -> None:
    docs = client.get("/documents", headers=_reader(client, ld=False)).json()
    bound = docs[3]["createdAt"]

    def uuids(operator: str) -> set[str]:
        found = client.get("/documents", params={f"createdAt[{operator}]": bound}, headers=_reader(client, ld=False))
        return {d["uuid"] for d in found.json()}

    assert docs[3]["uuid"] in uuids("after") and docs[3]["uuid"] in uuids("before")
    assert docs[3]["uuid"] not in uuids("strictly_after") | uuids("strictly_before")
    assert uuids("after") | uuids("strictly_before") == {d["uuid"] for d in docs}
    bad = client.get("/documents", params={"createdAt[around]": bound}, headers=_reader(client, ld=False))
    assert bad.status_code == 400 and bad.json()["violations"][0]["propertyPath"] == "createdAt[around]"


def test_range_operators_on_patients(client: TestClient) -> None:
    """Patients take the reference page's [between|gt|gte|lt|lte]; both bounds of between are included."""
    headers = {"Authorization": f"Bearer {access_token(client)}"}
    patients = client.get("/patients", params={"order[createdAt]": "asc"}, headers=headers).json()
    bound = patients[3]["createdAt"]

    def uuids(operator: str) -> set[str]:
        found = client.get("/patients", params={f"createdAt[{operator}]": bound}, headers=headers)
        assert found.status_code == 200, found.text
        return {p["uuid"] for p in found.json()}

    at = {p["uuid"] for p in patients if p["createdAt"] == bound}
    assert uuids("gte") - uuids("gt") == at and uuids("lte") - uuids("lt") == at
    between = client.get(
        "/patients", params={"createdAt[between]": f"{patients[1]['createdAt']}..{patients[4]['createdAt']}"},
        headers=headers,
    ).json()  # fmt: skip
    assert {p["uuid"] for p in between} >= {p["uuid"] for p in patients[1:5]}


@pytest.mark.parametrize(
    ("path", "operator", "accepted"),
    [
        ("/documents", "gte", "createdAt[after], createdAt[before], createdAt[strictly_after]"),
        ("/notes", "between", "createdAt[after]"),
        ("/patients", "after", "createdAt[between], createdAt[gt], createdAt[gte], createdAt[lt], createdAt[lte]"),
        ("/audios", "strictly_before", "createdAt[between]"),
    ],
)
def test_an_operator_the_resource_does_not_document_is_400_naming_the_accepted_ones(
    client: TestClient, path: str, operator: str, accepted: str
) -> None:
    """API Platform silently ignores an undeclared operator (the whole list comes back): the mock refuses it."""
    headers = {"Authorization": f"Bearer {access_token(client)}"}
    response = client.get(path, params={f"createdAt[{operator}]": "2026-01-01"}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["violations"][0]["propertyPath"] == f"createdAt[{operator}]"
    assert accepted in response.json()["detail"]
    bare = client.get(path, params={"createdAt": "2026-01-01"}, headers=headers)
    assert bare.status_code == 400 and "no operator" in bare.json()["detail"]


def test_multi_value_exact_filter(client: TestClient) -> None:
    docs = client.get("/documents", headers=_reader(client, ld=False)).json()
    wanted = [docs[0]["uuid"], docs[2]["uuid"]]
    found = client.get(
        "/documents", params=[("uuid[]", wanted[0]), ("uuid[]", wanted[1])], headers=_reader(client, ld=False)
    )
    assert [d["uuid"] for d in found.json()] == wanted
