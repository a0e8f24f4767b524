"""Symfony's and API Platform's HTTP rules: trailing slashes, path uuids, content negotiation."""

from __future__ import annotations

import uuid

import pytest
from conftest import access_token
from starlette.testclient import TestClient

from mock_server.web.negotiation import negotiate


def _auth(client: TestClient, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(client)}", **extra}


def _document(client: TestClient) -> str:
    return str(client.get("/documents", headers=_auth(client)).json()[0]["uuid"])


# -- trailing slashes ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_trailing_slash_redirects_301_for_get_and_head_keeping_the_query(client: TestClient, method: str) -> None:
    response = client.request(method, "/documents/?synchronized=false&page=2", headers=_auth(client),
                              follow_redirects=False)  # fmt: skip
    assert response.status_code == 301
    assert response.headers["location"] == f"{client.base_url}/documents?synchronized=false&page=2"
    item = client.get(f"/documents/{_document(client)}/", headers=_auth(client), follow_redirects=False)
    assert item.status_code == 301 and item.headers["location"].endswith(f"/documents/{_document(client)}")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/webhooks/"), ("POST", "/documents/{document}/status/"), ("DELETE", "/webhooks/"), ("PUT", "/me/")],
)
def test_other_methods_on_a_trailing_slash_are_404_never_a_redirect(client: TestClient, method: str, path: str) -> None:
    """Starlette answered 307, which a client follows with its body; Symfony finds no route."""
    response = client.request(method, path.replace("{document}", _document(client)),
                              headers={**_auth(client), "Content-Type": "application/json"}, content=b"{}",
                              follow_redirects=False)  # fmt: skip
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "No route found" in response.json()["detail"]


def test_no_redirect_to_a_path_that_is_not_routed(client: TestClient) -> None:
    assert client.get("/nothing/", headers=_auth(client), follow_redirects=False).status_code == 404
    bad_uuid = client.get("/documents/not-a-uuid/", headers=_auth(client), follow_redirects=False)
    assert bad_uuid.status_code == 404
    assert client.get("/documents", headers=_auth(client), follow_redirects=False).status_code == 200
    assert client.post("/me", headers=_auth(client), follow_redirects=False).status_code == 405  # no slash added


def test_the_redirect_is_journaled(client: TestClient) -> None:
    client.get("/notes/", headers=_auth(client), follow_redirects=False)
    entry = client.app.state.mock.store.journal.values()[-1]  # type: ignore[attr-defined]
    assert (entry["path"], entry["status"]) == ("/notes/", 301)


# -- path uuids ------------------------------------------------------------------------------------


def test_path_uuids_are_8_4_4_4_12_in_any_case(client: TestClient) -> None:
    key = _document(client)
    assert client.get(f"/documents/{key.upper()}", headers=_auth(client)).json()["uuid"] == key
    for form in (f"{{{key}}}", f"urn:uuid:{key}", key.replace("-", ""), key[:-1], key + "0"):
        response = client.get(f"/documents/{form}", headers=_auth(client))
        assert response.status_code == 404, form
        assert "not a valid UUID" in response.json()["detail"]


def test_a_malformed_uuid_is_404_even_with_a_wrong_method(client: TestClient) -> None:
    """A route requirement fails before Symfony looks at the method: no 405 for a path no route matches."""
    assert client.put("/documents/not-a-uuid", headers=_auth(client)).status_code == 404
    assert client.put(f"/documents/{_document(client)}", headers=_auth(client)).status_code == 405


# -- content negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/json", "application/json"),
        ("application/problem+json", "application/json"),
        ("application/ld+json", "application/ld+json"),
        ("application/json, application/ld+json", "application/ld+json"),
        ("application/ld+json;q=0.5, application/json", "application/json"),
        ("text/html, application/ld+json;q=0.1", "application/ld+json"),
        ("text/html", None),
        ("application/xml", None),
        ("application/json;q=0", None),
        ("garbage", None),
    ],
)
def test_negotiate(accept: str, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "image/png, text/*"])
def test_an_unsupported_accept_is_406_naming_the_supported_types(client: TestClient, accept: str) -> None:
    response = client.get("/documents", headers=_auth(client, Accept=accept))
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert accept in detail and "application/json" in detail and "application/ld+json" in detail


def test_406_comes_after_routing_and_before_authentication(client: TestClient) -> None:
    html = {"Accept": "text/html"}
    assert client.get("/nothing-here", headers=html).status_code == 404
    assert client.delete("/documents", headers=html).status_code == 405
    assert client.get("/documents/not-a-uuid", headers=html).status_code == 404
    assert client.get("/documents", headers=html).status_code == 406  # no token: still 406 first
    assert client.get("/openapi.json", headers=html).status_code == 200  # not an API resource


@pytest.mark.parametrize("accept", ["*/*", "application/json", "application/ld+json", "application/problem+json"])
def test_supported_accepts_are_served(client: TestClient, accept: str) -> None:
    response = client.get("/documents", headers=_auth(client, Accept=accept))
    assert response.status_code == 200
    expected = "application/ld+json" if accept == "application/ld+json" else "application/json"
    assert response.headers["content-type"].startswith(expected)


def test_merge_patch_is_for_patch_only(client: TestClient) -> None:
    merge = {"Content-Type": "application/merge-patch+json"}
    status = client.post(f"/documents/{_document(client)}/status", headers=_auth(client, **merge),
                         content=b'{"success": true}')  # fmt: skip
    assert status.status_code == 415
    assert "for PATCH only" in status.json()["detail"]
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["new_document"]}
    created = client.post("/webhooks", json=hook, headers=_auth(client))
    assert created.status_code == 201
    path = f"/webhooks/{created.json()['uuid']}"
    assert client.put(path, content=b"{}", headers=_auth(client, **merge)).status_code == 415
    assert client.patch(path, content=b'{"active": false}', headers=_auth(client, **merge)).status_code == 200
    plain = client.patch(path, json={"active": True}, headers=_auth(client))
    assert plain.status_code == 415 and "application/merge-patch+json" in plain.json()["detail"]


def test_unknown_uuid_still_404(client: TestClient) -> None:
    assert client.get(f"/documents/{uuid.uuid4()}", headers=_auth(client)).status_code == 404
