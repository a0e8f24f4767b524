"""``/me``: GET (reference) answers the REF-USER shape; POST (quickstart) is a 405 unless --me-accepts-post."""

from __future__ import annotations

import re

from click.testing import CliRunner
from conftest import access_token
from starlette.testclient import TestClient

from mock_server.cli.serve import serve

REF_USER_FIELDS = {
    "uuid", "email", "firstName", "lastName", "phone", "gender", "isVerified", "rpps", "am", "language", "timezone",
    "languageSpoken", "languageDocument", "languageSpokenAutoDetect", "organization", "organizationRole",
}  # fmt: skip


def _auth(client: TestClient, scope: str = "profile") -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(client, scope)}"}


def test_get_me_answers_the_reference_shape(client: TestClient) -> None:
    response = client.get("/me", headers=_auth(client))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == REF_USER_FIELDS
    user = client.app.state.mock.store.users.values()[0]  # type: ignore[attr-defined]
    assert body["uuid"] == user["uuid"]
    assert re.fullmatch(r"\d{11}", body["rpps"])
    assert body["language"] == "fr" and body["timezone"] == "Europe/Paris"
    assert body["organizationRole"] in ("ROLE_ORGANIZATION_ADMIN", "ROLE_ORGANIZATION_MEMBER")
    org = body["organization"]
    assert org["country"] == "FR" and org["timezone"] == "Europe/Paris"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", org["createdAt"])
    assert not [key for key in body if key.startswith("_")]


def test_post_me_is_405_naming_get_by_default(client: TestClient) -> None:
    """The reference documents GET only; the quickstart's POST is the likely slip: the stricter reading wins."""
    response = client.post("/me", headers=_auth(client))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert "GET /me" in detail and "--me-accepts-post" in detail
    journal = client.app.state.mock.store.journal.values()[-1]  # type: ignore[attr-defined]
    assert journal["status"] == 405 and journal["refused"] == "method" and "GET /me" in journal["problem"]
    other = client.put("/me", headers=_auth(client))
    assert other.status_code == 405 and other.headers["allow"] == "GET"


def test_post_me_answers_like_get_with_the_setting(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(me_accepts_post=True)
    headers = _auth(client)
    assert client.post("/me", headers=headers).json() == client.get("/me", headers=headers).json()
    assert client.put("/me", headers=headers).headers["allow"] == "GET, POST"
    document = client.get("/openapi.json").json()
    assert set(document["paths"]["/me"]) == {"get", "post"}


def test_openapi_documents_get_me_only_by_default(client: TestClient) -> None:
    assert set(client.get("/openapi.json").json()["paths"]["/me"]) == {"get"}


def test_me_needs_the_profile_scope(client: TestClient) -> None:
    response = client.get("/me", headers=_auth(client, "read:documents"))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert 'scope="profile"' in response.headers["www-authenticate"]


def test_me_needs_a_token(client: TestClient) -> None:
    assert client.get("/me").status_code == 401


def test_me_as_jsonld(client: TestClient) -> None:
    response = client.get("/me", headers={**_auth(client), "Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    body = response.json()
    assert body["@context"] == "/contexts/User"
    assert body["@id"] == f"/users/{body['uuid']}" and body["@type"] == "User"


def test_serve_has_the_option() -> None:
    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0 and "--me-accepts-post" in result.output
