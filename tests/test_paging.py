"""Every ``/_mock`` record listing answers one page shape, ``{items, last_id, dropped}``, paged by ``?since=ID``."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

LISTINGS = ("/_mock/documents", "/_mock/notes", "/_mock/events", "/_mock/status-reports", "/_mock/webhooks",
            "/_mock/deliveries", "/_mock/failures", "/_mock/journal", "/_mock/actions")


def grow(client: TestClient) -> None:
    """One more record in every listing: a document, a note, their events and deliveries, a webhook, a report..."""
    token = client.get("/_mock/credentials").json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    hook = client.post("/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["new_note"]}, headers=auth)
    assert hook.status_code == 201, hook.text
    doc = client.post("/_mock/documents", json={"validate": True}).json()["document"]
    client.post(f"/documents/{doc['uuid']}/status", json={"success": True}, headers=auth)
    client.post("/_mock/notes")
    client.post("/_mock/settle", params={"advance": "true"})


@pytest.mark.parametrize("path", LISTINGS)
def test_a_listing_pages_on_its_cursor(app_client, path: str) -> None:  # type: ignore[no-untyped-def]
    client = app_client()
    grow(client)
    first = client.get(path).json()
    assert set(first) >= {"items", "last_id", "dropped"}, first
    assert first["items"] and first["dropped"] == 0
    assert client.get(path, params={"since": first["last_id"]}).json()["items"] == []
    empty = client.get(path, params={"since": first["last_id"]}).json()
    assert empty["last_id"] == first["last_id"]  # nothing new: the cursor stays
    grow(client)
    new = client.get(path, params={"since": first["last_id"]}).json()
    assert new["items"] and new["items"] == client.get(path).json()["items"][len(first["items"]):]
    assert new["last_id"] > first["last_id"]
    assert client.get(path, params={"since": "x"}).status_code == 400


def test_changed_records_keep_their_place_and_dropped_ones_are_counted(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(delivery_limit=3)
    draft = client.post("/_mock/documents").json()["document"]
    cursor = client.get("/_mock/documents").json()["last_id"]
    client.post(f"/_mock/documents/{draft['uuid']}/validate")
    assert client.get("/_mock/documents", params={"since": cursor}).json()["items"] == []  # changed, not new
    events = client.get("/_mock/events").json()
    for _ in range(4):
        client.post("/_mock/notes")
    later = client.get("/_mock/events", params={"since": events["last_id"]}).json()
    assert later["dropped"] == 2 and len(later["items"]) == 3  # the reader sees it missed two
    assert [e["payload"]["action"] for e in later["items"]] == ["new_note"] * 3
