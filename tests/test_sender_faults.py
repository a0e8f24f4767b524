"""Delivery faults on demand: duplicate, out of order, concurrent (forged signatures: test_sender_signing)."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from starlette.testclient import TestClient

from mock_server.faults import registry as fault_list
from mock_server.faults.delivery import arm
from mock_server.testing.receiver import ScriptedReceiver
from mock_server.testing.sender import add_webhook, emit_note, running_sender, sender


def run(scenario):  # type: ignore[no-untyped-def]
    asyncio.run(asyncio.wait_for(scenario(), timeout=60))


def event_ids(requests) -> list[str]:  # type: ignore[no-untyped-def]
    return [orjson.loads(r.body)["events"][0]["id"] for r in requests]


def test_duplicate_at_once_sends_the_same_delivery_twice_then_disarms() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            add_webhook(ctx, rx.url("/ok"))
            arm(ctx, "duplicate")
            emit_note(ctx)
            emit_note(ctx)
            await ctx.timers.settle()
            first, second = ctx.store.deliveries.values()
            assert first["fault"] == "duplicate" and second["fault"] is None
            assert [a["kind"] for a in first["attempts"]] == ["scheduled", "duplicate"]
            copies = [r for r in rx.requests if r.body == first["body"].encode()]
            assert len(copies) == 2 and len(rx.requests) == 3
            assert fault_list.active(ctx) == []

    run(scenario)


def test_duplicate_after_a_delay_follows_the_mock_clock() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            add_webhook(ctx, rx.url("/ok"))
            arm(ctx, "duplicate", delay=10, copies=3)
            emit_note(ctx)
            await ctx.timers.settle()
            delivery = ctx.store.deliveries.values()[0]
            assert len(rx.requests) == 1 and delivery["state"] == "delivered"
            assert [c["due"] - delivery["created_at"] for c in delivery["pending_copies"]] == [10, 20]
            ctx.clock.advance(9)
            await ctx.timers.settle()
            assert len(rx.requests) == 1
            ctx.clock.advance(11)
            await ctx.timers.settle()
            assert len(rx.requests) == 3 and len({r.body for r in rx.requests}) == 1
            assert [a["scheduled_at"] - delivery["created_at"] for a in delivery["attempts"]] == [0, 10, 20]
            assert delivery["pending_copies"] == []

    run(scenario)


def test_out_of_order_swaps_the_next_two_events() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            add_webhook(ctx, rx.url("/ok"))
            arm(ctx, "out_of_order")
            a = emit_note(ctx)
            await ctx.timers.settle()
            assert rx.requests == []  # held until its pair arrives
            b = emit_note(ctx)
            c = emit_note(ctx)
            await ctx.timers.settle()
            ids = event_ids(rx.requests)
            assert ids.index(b["payload"]["id"]) < ids.index(a["payload"]["id"])
            assert set(ids) == {a["payload"]["id"], b["payload"]["id"], c["payload"]["id"]}
            held = next(d for d in ctx.store.deliveries if d["event_ids"] == [a["event_id"]])
            assert held["after"] is not None and held["state"] == "delivered"
            assert fault_list.active(ctx) == []

    run(scenario)


def test_a_held_event_goes_out_when_the_fault_is_cleared() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            add_webhook(ctx, rx.url("/ok"))
            arm(ctx, "out_of_order")
            a = emit_note(ctx)
            fault_list.clear(ctx)
            sender(ctx).release_held()
            await ctx.timers.settle()
            assert event_ids(rx.requests) == [a["payload"]["id"]]

    run(scenario)


def test_concurrent_sends_the_copies_at_the_same_time() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            add_webhook(ctx, rx.url("/slow/0.3"))
            arm(ctx, "concurrent", copies=3)
            emit_note(ctx)
            await ctx.timers.settle()
            assert len(rx.requests) == 3
            delivery = ctx.store.deliveries.values()[0]
            assert [a["kind"] for a in delivery["attempts"]] == ["scheduled", "concurrent", "concurrent"]
            # All in flight together, by the mock's own records: every copy left before any answer came
            # back (each answer takes the receiver's 0.3 s), however slow the machine is.
            starts = [a["wall"] for a in delivery["attempts"]]
            ends = [a["wall"] + a["latency_ms"] / 1000 for a in delivery["attempts"]]
            assert max(starts) < min(ends), delivery["attempts"]
            assert delivery["state"] == "delivered"

    run(scenario)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "duplicate", "copies": 1}, "copies"),
        ({"kind": "duplicate", "delay": -1}, "delay"),
        ({"kind": "duplicate", "bogus": 1}, "bogus"),
        ({"kind": "concurrent", "count": 0}, "count"),
        ({"kind": "forged_signature"}, "mode"),
        ({"kind": "forged_signature", "mode": "nope"}, "mode"),
        ({"kind": "out_of_order", "copies": 2}, "copies"),
    ],
)
def test_bad_fault_parameters_are_422_naming_the_field(client: TestClient, body: dict, field: str) -> None:
    response = client.post("/_mock/faults", json=body)
    assert response.status_code == 422, response.text
    assert [v["propertyPath"] for v in response.json()["violations"]] == [field]


def test_delivery_faults_through_the_control_api(client: TestClient) -> None:
    response = client.post("/_mock/faults", json={"kind": "duplicate", "count": 2, "delay": 1.5})
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["kind"] == "duplicate" and record["remaining"] == 2
    assert record["params"] == {"count": 2, "copies": 2, "delay": 1.5}
    listed = client.get("/_mock/faults").json()
    assert [f["id"] for f in listed] == [record["id"]]
    forged = client.post("/_mock/faults", json={"kind": "forged_signature", "mode": "rotated"}).json()
    assert forged["params"]["mode"] == "rotated"
    assert client.app.state.mock.webhook_secret.startswith("whsec_")  # type: ignore[attr-defined]
