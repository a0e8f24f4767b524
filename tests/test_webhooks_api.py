"""/webhooks: create, list, read, replace, merge-patch, delete; scope, validation, sender hooks."""

from __future__ import annotations

import uuid

import pytest
from conftest import access_token
from starlette.testclient import TestClient

EVENTS = ["new_document", "document_synchronize"]


def auth(client: TestClient, scope: str = "organization") -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(client, scope)}"}


def create(client: TestClient, **body: object) -> dict[str, object]:
    payload = {"url": "http://127.0.0.1:9000/hook", "events": EVENTS, **body}
    response = client.post("/webhooks", json=payload, headers=auth(client))
    assert response.status_code == 201, response.text
    return response.json()


def test_create_returns_201_with_uuid_and_defaults(client: TestClient) -> None:
    response = client.post(
        "/webhooks", json={"url": "https://your-system.com/api/askara/webhook", "events": ["new_document"]},
        headers=auth(client),
    )
    assert response.status_code == 201
    body = response.json()
    assert uuid.UUID(body["uuid"])
    assert body["url"] == "https://your-system.com/api/askara/webhook"
    assert body["events"] == ["new_document"]
    assert body["active"] is True
    assert body["createdAt"] == body["updatedAt"]
    assert not any(key.startswith("_") for key in body)
    assert response.headers["location"] == f"/webhooks/{body['uuid']}"
    record = client.app.state.mock.store.webhooks.get(body["uuid"])  # type: ignore[attr-defined]
    assert record["_client_id"] == client.app.state.mock.settings.client_id  # type: ignore[attr-defined]
    org = client.app.state.mock.store.organizations.values()[0]["uuid"]  # type: ignore[attr-defined]
    assert record["_organization_id"] == org


def test_list_get_update_delete_roundtrip(client: TestClient) -> None:
    first = create(client)
    second = create(client, events=["new_note"], active=False)
    listed = client.get("/webhooks", headers=auth(client))
    assert listed.status_code == 200
    assert [w["uuid"] for w in _members(listed.json())] == [first["uuid"], second["uuid"]]

    got = client.get(f"/webhooks/{first['uuid']}", headers=auth(client))
    assert got.json() == first

    client.app.state.mock.clock.advance(10)  # type: ignore[attr-defined]
    put = client.put(
        f"/webhooks/{first['uuid']}", json={"url": "https://example.org/h", "events": ["new_note"]},
        headers=auth(client),
    )
    assert put.status_code == 200
    assert put.json()["url"] == "https://example.org/h"
    assert put.json()["events"] == ["new_note"]
    assert put.json()["active"] is True
    assert put.json()["updatedAt"] != put.json()["createdAt"]

    patch = client.patch(
        f"/webhooks/{first['uuid']}",
        content=b'{"active": false}',
        headers={**auth(client), "Content-Type": "application/merge-patch+json"},
    )
    assert patch.status_code == 200, patch.text
    assert patch.json()["active"] is False
    assert patch.json()["url"] == "https://example.org/h"

    deleted = client.delete(f"/webhooks/{first['uuid']}", headers=auth(client))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(f"/webhooks/{first['uuid']}", headers=auth(client)).status_code == 404


def test_jsonld_item(client: TestClient) -> None:
    hook = create(client)
    response = client.get(f"/webhooks/{hook['uuid']}", headers={**auth(client), "Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.json()["@id"] == f"/webhooks/{hook['uuid']}"
    assert response.json()["@type"] == "Webhook"


def test_requires_the_organization_scope(client: TestClient) -> None:
    assert client.get("/webhooks").status_code == 401
    forbidden = client.get("/webhooks", headers=auth(client, "read:documents"))
    assert forbidden.status_code == 403
    assert 'scope="organization"' in forbidden.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": EVENTS}, "url"),
        ({"url": "http://127.0.0.1/h"}, "events"),
        ({"url": "ftp://127.0.0.1/h", "events": EVENTS}, "url"),
        ({"url": "/relative/path", "events": EVENTS}, "url"),
        ({"url": "http://127.0.0.1:99999/h", "events": EVENTS}, "url"),
        ({"url": "http://127.0.0.1/h", "events": []}, "events"),
        ({"url": "http://127.0.0.1/h", "events": ["new_document", "new_document"]}, "events"),
        ({"url": "http://127.0.0.1/h", "events": ["document_validated"]}, "events.0"),
        ({"url": "http://127.0.0.1/h", "events": "new_document"}, "events"),
        ({"url": "http://127.0.0.1/h", "events": EVENTS, "active": "yes"}, "active"),
        ({"url": "http://127.0.0.1/h", "events": EVENTS, "secret": "x"}, "secret"),
        ([], ""),
    ],
)
def test_create_rejects_bad_bodies_naming_the_field(client: TestClient, body: object, field: str) -> None:
    response = client.post("/webhooks", json=body, headers=auth(client))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [v["propertyPath"] for v in response.json()["violations"]]
    assert len(client.app.state.mock.store.webhooks) == 0  # type: ignore[attr-defined]


def test_patch_needs_merge_patch_content_type(client: TestClient) -> None:
    hook = create(client)
    response = client.patch(f"/webhooks/{hook['uuid']}", json={"active": False}, headers=auth(client))
    assert response.status_code == 415
    assert "application/merge-patch+json" in response.json()["detail"]


def test_patch_rejects_null_and_bad_values(client: TestClient) -> None:
    hook = create(client)
    headers = {**auth(client), "Content-Type": "application/merge-patch+json"}
    for body, field in ((b'{"url": null}', "url"), (b'{"events": ["x"]}', "events.0"), (b'{"active": 1}', "active")):
        response = client.patch(f"/webhooks/{hook['uuid']}", content=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["violations"][0]["propertyPath"] == field
    assert client.get(f"/webhooks/{hook['uuid']}", headers=auth(client)).json() == hook


def test_unknown_and_invalid_uuids_are_404(client: TestClient) -> None:
    for key in (str(uuid.uuid4()), "not-a-uuid"):
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            response = client.request(method, f"/webhooks/{key}", headers=auth(client))
            assert response.status_code == 404, (method, key)


def test_sender_hooks_are_called(client: TestClient) -> None:
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    calls: list[tuple[str, str]] = []
    ctx.sender.on_webhook_changed = lambda key: calls.append(("changed", key))
    ctx.sender.on_webhook_deleted = lambda key: calls.append(("deleted", key))
    hook = create(client)
    client.put(f"/webhooks/{hook['uuid']}", json={"url": "http://127.0.0.1/x", "events": EVENTS}, headers=auth(client))
    client.delete(f"/webhooks/{hook['uuid']}", headers=auth(client))
    assert calls == [("changed", hook["uuid"]), ("changed", hook["uuid"]), ("deleted", hook["uuid"])]


def _members(body: object) -> list[dict[str, object]]:
    if isinstance(body, list):
        return body
    assert isinstance(body, dict)
    return body.get("member") or body.get("hydra:member")  # type: ignore[return-value]


def test_collection_pages_and_hydra(client: TestClient) -> None:
    hooks = [create(client) for _ in range(3)]
    page = client.get("/webhooks", params={"itemsPerPage": 2, "page": 2}, headers=auth(client))
    assert [w["uuid"] for w in page.json()] == [hooks[2]["uuid"]]
    hydra = client.get("/webhooks", params={"itemsPerPage": 2},
                       headers={**auth(client), "Accept": "application/ld+json"}).json()
    assert hydra["totalItems"] == 3
    assert [m["@id"] for m in hydra["member"]] == [f"/webhooks/{h['uuid']}" for h in hooks[:2]]
    assert "next" in hydra["view"]
