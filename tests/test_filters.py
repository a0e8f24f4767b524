"""Collection filters, strictly: a filter production would drop silently is a 400 here, naming the rule."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import access_token
from starlette.testclient import TestClient

from mock_server.core.assumptions import relied_on
from mock_server.web.filters import fold


def _get(client: TestClient, path: str, params: Any) -> Any:
    return client.get(path, params=params, headers={"Authorization": f"Bearer {access_token(client)}"})


def _uuids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["uuid"] for item in response.json()]


# -- booleans ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["False", "TRUE", "True", "yes", "", " true", "false "])
def test_booleans_take_exactly_true_false_1_0(client: TestClient, value: str) -> None:
    """str(False) is "False": API Platform's BooleanFilter drops it and returns every document."""
    response = _get(client, "/documents", {"synchronized": value})
    assert response.status_code == 400
    violation = response.json()["violations"][0]
    assert violation["propertyPath"] == "synchronized" and violation["code"] == "boolean"
    assert "true, false, 1 or 0" in violation["message"] and "silently drops" in violation["message"]


def test_the_four_booleans_filter(client: TestClient) -> None:
    everything = _uuids(_get(client, "/documents", {}))
    done, pending = (_uuids(_get(client, "/documents", {"synchronized": v})) for v in ("true", "false"))
    assert _uuids(_get(client, "/documents", {"synchronized": "1"})) == done
    assert _uuids(_get(client, "/documents", {"synchronized": "0"})) == pending
    assert sorted(done + pending) == sorted(everything)
    bracket = _get(client, "/documents", {"synchronized[]": "true"})
    assert bracket.status_code == 400 and bracket.json()["violations"][0]["propertyPath"] == "synchronized[]"


# -- exact filters: uuid values, empty values, forms ---------------------------------------------


def test_uuid_filters_take_a_uuid_or_the_iri(client: TestClient) -> None:
    docs = _get(client, "/documents", {}).json()
    patient = docs[0]["patient"]["uuid"]
    expected = [d["uuid"] for d in docs if d["patient"]["uuid"] == patient]
    for value in (patient, patient.upper(), f"/patients/{patient}", f"http://127.0.0.1:8765/patients/{patient}"):
        assert _uuids(_get(client, "/documents", {"patient": value})) == expected
    for bad in ("", "nope", f"/documents/{patient}", f"{{{patient}}}", patient.replace("-", "")):
        response = _get(client, "/documents", {"patient": bad})
        assert response.status_code == 400, bad
        assert response.json()["violations"][0]["propertyPath"] == "patient"
    many = _get(client, "/documents", [("uuid[]", docs[0]["uuid"]), ("uuid[]", "")])
    assert many.status_code == 400 and many.json()["violations"][0]["propertyPath"] == "uuid[]"


def test_an_empty_string_filter_matches_literally(client: TestClient) -> None:
    """API Platform's SearchFilter keeps "" and compares: nothing has an empty type, so the page is empty."""
    assert _uuids(_get(client, "/documents", {"type": ""})) == []
    assert _uuids(_get(client, "/patients", {"lastName": ""})) == []


def test_an_exact_filter_with_an_operator_is_400(client: TestClient) -> None:
    response = _get(client, "/notes", {"patient[gt]": "x"})
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyPath"] == "patient[gt]"


# -- patients: search, variant B filters, not mocked ---------------------------------------------


def test_patient_search_is_case_and_accent_insensitive(client: TestClient) -> None:
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    target = ctx.store.patients.values()[0]
    target.update({"firstName": "Hélène", "lastName": "Dupré-Lefèvre", "email": "h.dupre@example.org",
                   "phone": "+33639980042", "externalId": "PAT-424242"})  # fmt: skip
    ctx.store.patients.put(target["uuid"], target)
    for words in ("helene", "HÉLÈNE", "dupre lefevre", "lefèvre hel", "H.DUPRE@", "39980042", "pat-4242"):
        assert target["uuid"] in _uuids(_get(client, "/patients", {"search": words})), words
    assert _uuids(_get(client, "/patients", {"search": "helene zzzz"})) == []
    assert len(_uuids(_get(client, "/patients", {"search": ""}))) == len(ctx.store.patients.values())
    assert fold("Ærø Éléonore") == "ærø eleonore"


def test_patient_variant_b_filters(client: TestClient) -> None:
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    everyone = _get(client, "/patients", {}).json()
    user = ctx.store.users.values()[0]
    assert len(_uuids(_get(client, "/patients", {"user.uuid": user["uuid"]}))) == len(everyone)
    assert len(_uuids(_get(client, "/patients", {"user.email": user["email"]}))) == len(everyone)
    assert _uuids(_get(client, "/patients", {"user.email": "someone@example.org"})) == []
    two = [everyone[0], everyone[1]]
    found = _uuids(_get(client, "/patients", [("lastName[]", p["lastName"]) for p in two]))
    assert set(found) >= {p["uuid"] for p in two}
    dated = next(p for p in everyone if p["externalCreatedAt"])
    same = _uuids(_get(client, "/patients", {"externalCreatedAt": dated["externalCreatedAt"].replace("+00:00", "Z")}))
    assert dated["uuid"] in same
    codes = _get(client, "/patients", {"order[anonymousCode]": "DESC"})
    assert codes.status_code == 200


@pytest.mark.parametrize("parameter", ["id", "id[]", "client", "order[id]"])
def test_documented_patient_filters_the_mock_cannot_honour_are_400_not_mocked(
    client: TestClient, parameter: str
) -> None:
    response = _get(client, "/patients", {parameter: "1" if "order" not in parameter else "asc"})
    assert response.status_code == 400
    violation = response.json()["violations"][0]
    assert violation["propertyPath"] == parameter and violation["code"] == "not_mocked"
    assert "not mocked" in violation["message"]


def test_unknown_parameters_are_still_ignored(client: TestClient) -> None:
    assert len(_uuids(_get(client, "/patients", {"colour": "blue"}))) == len(_uuids(_get(client, "/patients", {})))


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"order": "asc"}, "order"), ({"order[createdAt]": " asc"}, "order[createdAt]"),
     ({"createdAt[after]": "yesterday"}, "createdAt[after]"),
     ({"createdAt[after]": "2026-01-01 10:00"}, "createdAt[after]")],
)  # fmt: skip
def test_order_and_date_values_are_strict(client: TestClient, params: dict[str, str], parameter: str) -> None:
    response = _get(client, "/notes", params)
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyPath"] == parameter


def test_undocumented_filters_rely_on_their_assumption(client: TestClient) -> None:
    seen: list[list[str]] = []
    app = client.app

    async def spy(scope, receive, send):  # type: ignore[no-untyped-def]
        await inner(scope, receive, send)
        if scope["type"] == "http":
            seen.append([i for i in relied_on(scope) if i.endswith("-filters")])

    inner = app.middleware_stack  # type: ignore[attr-defined]
    app.middleware_stack = spy  # type: ignore[attr-defined]
    try:
        for _ in range(2):  # the second answer comes from the body cache: it still relies
            _get(client, "/documents", {"type": "referral_letter"})
        _get(client, "/documents", {"synchronized": "false"})
        _get(client, "/notes", {"order[updatedAt]": "asc"})
        _get(client, "/notes", {"createdAt[after]": "2020-01-01"})
    finally:
        app.middleware_stack = inner  # type: ignore[attr-defined]
    assert seen == [["document-filters"], ["document-filters"], [], ["note-filters"], []]
