"""The sender's control routes through the real app: deliveries, failures, redelivery, reset."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from starlette.testclient import TestClient

from mock_server.testing.receiver import ScriptedReceiver
from mock_server.testing.sender import add_webhook
from mock_server.web.validation import validate


@pytest.fixture
def receiver(client: TestClient) -> Iterator[ScriptedReceiver]:
    """A receiver on the app's own event loop (the one the sender runs on)."""
    rx = ScriptedReceiver()
    client.portal.call(rx.__aenter__)
    yield rx
    client.portal.call(rx.close)


def settle(client: TestClient) -> None:
    client.portal.call(client.app.state.mock.timers.settle)  # type: ignore[attr-defined]


def advance(client: TestClient, seconds: float) -> None:
    response = client.post("/_mock/clock/advance", json={"seconds": seconds, "wait": True})
    assert response.status_code == 200, response.text
    settle(client)


def test_a_note_event_goes_through_the_app_and_shows_in_the_log(client: TestClient, receiver: ScriptedReceiver) -> None:
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    hook = add_webhook(ctx, receiver.url("/ok"), ["new_note"])
    created = client.post("/_mock/notes", json={})
    assert created.status_code == 201, created.text
    settle(client)
    assert len(receiver.requests) == 1
    assert validate("webhook-event", orjson.loads(receiver.requests[0].body)) == []
    answer = client.get("/_mock/deliveries").json()
    assert answer["total"] == 1 and answer["dropped"] == 0
    delivery = answer["items"][0]
    assert delivery["webhook_id"] == hook["uuid"] and delivery["state"] == "delivered"
    assert delivery["resource_ids"] == [created.json()["note"]["uuid"]]
    assert client.get(f"/_mock/deliveries/{delivery['id']}").json() == delivery
    assert client.get("/_mock/failures").json() == {"items": [], "last_id": 0, "total": 0, "dropped": 0}


def test_failures_redeliver_and_filters(client: TestClient, receiver: ScriptedReceiver) -> None:
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    bad = add_webhook(ctx, receiver.url("/status/500"), ["new_note"])
    good = add_webhook(ctx, receiver.url("/ok"), ["new_note"])
    event = client.post("/_mock/notes", json={}).json()["event"]
    settle(client)
    advance(client, 35)
    failures = client.get("/_mock/failures").json()
    assert failures["total"] == 1
    failed = failures["items"][0]
    assert failed["webhook_id"] == bad["uuid"] and len(failed["attempts"]) == 4
    by_webhook = client.get("/_mock/deliveries", params={"webhook": good["uuid"]}).json()
    assert [d["state"] for d in by_webhook["items"]] == ["delivered"]
    assert client.get("/_mock/deliveries", params={"event": event["event_id"]}).json()["total"] == 2
    assert client.get("/_mock/deliveries", params={"event": event["payload"]["id"]}).json()["total"] == 2
    assert client.get("/_mock/deliveries", params={"state": "failed"}).json()["total"] == 1
    limited = client.get("/_mock/deliveries", params={"limit": 1}).json()
    assert len(limited["items"]) == 1 and limited["total"] == 2
    later = client.get("/_mock/deliveries", params={"created_since": ctx.clock.now() + 1}).json()
    assert later["total"] == 0

    bad["url"] = receiver.url("/ok")
    response = client.post(f"/_mock/deliveries/{failed['id']}/redeliver")
    assert response.status_code == 202 and response.json()["id"] == failed["id"]
    settle(client)
    after = client.get(f"/_mock/deliveries/{failed['id']}").json()
    assert after["state"] == "delivered" and after["attempts"][-1]["kind"] == "redeliver"
    assert client.get("/_mock/failures").json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [({"state": "lost"}, "state"), ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
     ({"since": "yesterday"}, "since"), ({"since": "1.5"}, "since"), ({"created_since": "yesterday"}, "created_since"),
     ({"colour": "red"}, "colour")],
)
def test_bad_filters_are_400_naming_the_parameter(client: TestClient, query: dict, field: str) -> None:
    response = client.get("/_mock/deliveries", params=query)
    assert response.status_code == 400, response.text
    assert [v["propertyPath"] for v in response.json()["violations"]] == [field]


def test_failures_refuse_a_state_filter(client: TestClient) -> None:
    response = client.get("/_mock/failures", params={"state": "delivered"})
    assert response.status_code == 400 and response.json()["violations"][0]["propertyPath"] == "state"


def test_unknown_delivery_is_404(client: TestClient) -> None:
    assert client.get("/_mock/deliveries/dlv_nope").status_code == 404
    assert client.post("/_mock/deliveries/dlv_nope/redeliver").status_code == 404


def test_redelivering_to_a_deleted_webhook_is_409(client: TestClient, receiver: ScriptedReceiver) -> None:
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    hook = add_webhook(ctx, receiver.url("/ok"), ["new_note"])
    client.post("/_mock/notes", json={})
    settle(client)
    delivery_id = ctx.store.deliveries.values()[0]["id"]
    ctx.store.webhooks.delete(hook["uuid"])
    response = client.post(f"/_mock/deliveries/{delivery_id}/redeliver")
    assert response.status_code == 409 and "deleted" in response.json()["detail"]


def test_reset_empties_the_log_and_stops_retries(client: TestClient, receiver: ScriptedReceiver) -> None:
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    add_webhook(ctx, receiver.url("/status/500"), ["new_note"])
    client.post("/_mock/notes", json={})
    settle(client)
    assert client.post("/_mock/reset").status_code == 200
    assert not [key for _, key in ctx.timers.pending() if key and key.startswith("delivery:")]
    advance(client, 60)
    assert len(receiver.requests) == 1
    assert client.get("/_mock/deliveries").json() == {"items": [], "last_id": 0, "total": 0, "dropped": 0}
