"""``/patients``: list with filters, create with the documented fields, read one."""

from __future__ import annotations

import re
import uuid

from conftest import access_token
from starlette.testclient import TestClient

CREATED_FIELDS = {
    "uuid", "firstName", "lastName", "languageSpoken", "createdAt", "updatedAt", "synchronizedAt", "dateOfBirth",
    "gender", "user", "visibilityOption", "email", "phone", "anonymousCode",
}  # fmt: skip


def _auth(client: TestClient, scope: str = "profile") -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(client, scope)}"}


def test_list_needs_a_token_but_no_particular_scope(client: TestClient) -> None:
    assert client.get("/patients").status_code == 401
    response = client.get("/patients", headers=_auth(client, "read:notes"))
    assert response.status_code == 200
    patients = response.json()
    assert len(patients) == client.app.state.mock.settings.seed_patients  # type: ignore[attr-defined]
    for patient in patients:
        assert set(patient) == CREATED_FIELDS | {"externalId", "externalCreatedAt"}
        assert patient["externalId"] is None or re.fullmatch(r"PAT-\d{6}", patient["externalId"])
        assert patient["user"].startswith("/users/")


def test_list_filters_and_orders(client: TestClient) -> None:
    headers = _auth(client)
    everyone = client.get("/patients", headers=headers).json()
    target = next(p for p in everyone if p["externalId"])
    found = client.get("/patients", params={"externalId": target["externalId"]}, headers=headers).json()
    assert [p["uuid"] for p in found] == [target["uuid"]]
    by_name = client.get("/patients", params={"order[lastName]": "desc"}, headers=headers).json()
    names = [p["lastName"] for p in by_name]
    assert names == sorted(names, reverse=True)
    women = client.get("/patients", params={"gender": "female"}, headers=headers).json()
    assert all(p["gender"] == "female" for p in women)
    assert len(women) == sum(p["gender"] == "female" for p in everyone)
    newest = max(p["createdAt"] for p in everyone)
    after = client.get("/patients", params={"createdAt[gte]": newest}, headers=headers).json()
    assert [p["createdAt"] for p in after] == [newest]


def test_create_answers_201_with_the_documented_fields(client: TestClient) -> None:
    headers = _auth(client)
    body = {
        "firstName": "Jeanne", "lastName": "Testeuse", "dateOfBirth": "1980-02-03", "gender": "female",
        "visibilityOption": "private", "externalId": "PAT-000123", "externalCreatedAt": "2020-01-02T03:04:05+00:00",
        "email": "jeanne.testeuse@example.org", "phone": "+33639980001", "languageSpoken": "fr",
    }  # fmt: skip
    response = client.post("/patients", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == CREATED_FIELDS
    assert uuid.UUID(created["uuid"]).version == 4
    assert created["dateOfBirth"] == "1980-02-03" and created["visibilityOption"] == "private"
    assert response.headers["location"] == f"/patients/{created['uuid']}"
    again = client.get(f"/patients/{created['uuid']}", headers=headers)
    assert again.status_code == 200
    assert again.json()["externalId"] == "PAT-000123"
    assert again.json()["externalCreatedAt"] == "2020-01-02T03:04:05+00:00"


def test_create_names_each_bad_field(client: TestClient) -> None:
    headers = _auth(client)
    response = client.post("/patients", json={"lastName": "X", "gender": "other", "nickname": "x"}, headers=headers)
    assert response.status_code == 422
    paths = {v["propertyPath"] for v in response.json()["violations"]}
    assert paths == {"firstName", "gender", "nickname"}
    wrong_date = client.post("/patients", json={"firstName": "A", "lastName": "B", "dateOfBirth": "1980-02-30"},
                             headers=headers)  # fmt: skip
    assert wrong_date.status_code == 422
    assert wrong_date.json()["violations"][0]["propertyPath"] == "dateOfBirth"
    malformed = client.post("/patients", content=b"{", headers={**headers, "Content-Type": "application/json"})
    assert malformed.status_code == 400


def test_get_one_404s(client: TestClient) -> None:
    headers = _auth(client)
    missing = client.get(f"/patients/{uuid.uuid4()}", headers=headers)
    assert missing.status_code == 404
    malformed = client.get("/patients/not-a-uuid", headers=headers)
    assert malformed.status_code == 404
    assert "not a valid UUID" in malformed.json()["detail"]


def test_list_as_hydra(client: TestClient) -> None:
    headers = {**_auth(client), "Accept": "application/ld+json"}
    response = client.get("/patients", params={"itemsPerPage": 3}, headers=headers)
    body = response.json()
    assert body["@type"] == "Collection" and body["@id"] == "/patients"
    assert body["totalItems"] == client.app.state.mock.settings.seed_patients  # type: ignore[attr-defined]
    assert [m["@type"] for m in body["member"]] == ["Patient"] * 3
    assert body["view"]["next"] == "/patients?itemsPerPage=3&page=2"
