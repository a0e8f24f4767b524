"""The sender against a real receiver on loopback: payloads, schedule, failure queue, redelivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import orjson
import pytest

from mock_server.core.errors import ConfigError
from mock_server.core.settings import Settings
from mock_server.sender.attempts import USER_AGENT
from mock_server.testing.receiver import ScriptedReceiver
from mock_server.testing.sender import add_webhook, emit_document, emit_note, running_sender, sender
from mock_server.web.validation import validate

ENVELOPE_SCHEMA = "webhook-event"


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout=60))


def assert_envelope(body: bytes) -> dict:
    envelope = orjson.loads(body)
    assert validate(ENVELOPE_SCHEMA, envelope) == []
    return envelope


def test_each_event_reaches_every_subscribed_active_webhook_in_the_envelope() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            notes = add_webhook(ctx, rx.url("/notes"), ["new_note"])
            docs = add_webhook(ctx, rx.url("/docs"), ["new_document", "document_synchronize"])
            add_webhook(ctx, rx.url("/off"), ["new_note", "new_document"], active=False)
            note = emit_note(ctx)
            emit_document(ctx, "new_document")
            emit_document(ctx, "document_synchronize")
            await ctx.timers.settle()
            assert sorted(r.path for r in rx.requests) == ["/docs", "/docs", "/notes"]
            for request in rx.requests:
                assert request.method == "POST"
                assert request.headers["content-type"] == "application/json"
                assert request.headers["user-agent"] == USER_AGENT
                assert "webhook-signature" not in request.headers  # signing is off by default
                envelope = assert_envelope(request.body)
                assert len(envelope["events"]) == 1
                expected = notes if request.path == "/notes" else docs
                assert envelope["meta"] == {"webhook_id": expected["uuid"]}
            note_request = next(r for r in rx.requests if r.path == "/notes")
            event = orjson.loads(note_request.body)["events"][0]
            assert event["id"] == note["payload"]["id"] and event["action"] == "new_note"
            assert "_user_id" not in event["metadata"]["note"]
            deliveries = ctx.store.deliveries.values()
            assert {d["state"] for d in deliveries} == {"delivered"}
            note_delivery = next(d for d in deliveries if d["webhook_id"] == notes["uuid"])
            assert note_delivery["event_ids"] == [note["event_id"]]
            assert note_delivery["body"].encode() == note_request.body
            attempt = note_delivery["attempts"][0]
            assert attempt["kind"] == "scheduled" and attempt["status"] == 200 and attempt["failure"] is None
            assert attempt["response_body"] == '{"ok":true}' and attempt["latency_ms"] > 0

    run(scenario)


def test_retries_at_0_5_15_35_on_a_manual_clock_then_the_failure_queue() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            hook = add_webhook(ctx, rx.url("/status/500"))
            t0 = ctx.clock.now()
            event = emit_note(ctx)
            await ctx.timers.settle()
            assert len(rx.requests) == 1
            ctx.clock.advance(4.9)
            await ctx.timers.settle()
            assert len(rx.requests) == 1  # nothing before its time
            ctx.clock.advance(60)  # one jump past every remaining retry
            await ctx.timers.settle()
            delivery = ctx.store.deliveries.values()[0]
            assert [a["scheduled_at"] - t0 for a in delivery["attempts"]] == [0, 5, 15, 35]
            assert [a["kind"] for a in delivery["attempts"]] == ["scheduled", "retry", "retry", "retry"]
            assert all(a["failure"] == "status" and a["status"] == 500 for a in delivery["attempts"])
            assert delivery["state"] == "failed" and delivery["next_attempt_at"] is None
            bodies = {r.body for r in rx.requests}
            assert len(rx.requests) == 4 and len(bodies) == 1  # same body, same event ids every time
            assert orjson.loads(bodies.pop())["events"][0]["id"] == event["payload"]["id"]
            # redelivery: a fresh attempt on the same delivery; success moves it out of the queue
            hook["url"] = rx.url("/ok")
            sender(ctx).redeliver(delivery["id"])
            await ctx.timers.settle()
            assert delivery["state"] == "delivered"
            assert delivery["attempts"][-1]["kind"] == "redeliver" and delivery["attempts"][-1]["n"] == 5

    run(scenario)


@pytest.mark.parametrize(
    ("reading", "count", "offsets"),
    [
        ("gaps", "retries", [0, 5, 15, 35]),  # the default: delays between attempts, 3 retries after the first
        ("offsets", "retries", [0, 5, 10, 20]),  # delays counted from the first attempt
        ("gaps", "attempts", [0, 5, 15]),  # "3 retries" read as 3 attempts in all
        ("offsets", "attempts", [0, 5, 10]),
    ],
)
def test_the_retry_schedule_follows_the_reading_of_the_guide(reading: str, count: str, offsets: list[int]) -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender(retry_reading=reading, retry_count=count) as ctx:
            add_webhook(ctx, rx.url("/status/500"))
            t0 = ctx.clock.now()
            emit_note(ctx)
            await ctx.timers.settle()
            for step in offsets[1:]:
                ctx.clock.advance(t0 + step - 0.1 - ctx.clock.now())
                await ctx.timers.settle()
                attempts = ctx.store.deliveries.values()[0]["attempts"]
                assert attempts[-1]["scheduled_at"] - t0 < step  # not before its time
                ctx.clock.advance(0.1)
                await ctx.timers.settle()
            ctx.clock.advance(3600)  # nothing is left to try, however long one waits
            await ctx.timers.settle()
            (delivery,) = ctx.store.deliveries.values()
            assert [a["scheduled_at"] - t0 for a in delivery["attempts"]] == offsets
            assert len(rx.requests) == len(offsets)
            assert delivery["state"] == "failed" and delivery["next_attempt_at"] is None

    run(scenario)


def test_a_retry_schedule_read_as_offsets_must_not_go_back_in_time() -> None:
    with pytest.raises(ConfigError, match="must not decrease"):
        Settings(retry_reading="offsets", retry_delays=(5.0, 20.0, 10.0))
    with pytest.raises(ConfigError, match="retry_reading must be one of gaps, offsets"):
        Settings(retry_reading="gap")
    with pytest.raises(ConfigError, match="retry_count must be one of retries, attempts"):
        Settings(retry_count="tries")


def test_scaled_clock_retry_gaps_of_50_100_200_ms() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender(clock="scaled", time_scale=0.01, clock_start=None) as ctx:
            add_webhook(ctx, rx.url("/status/503"))
            emit_note(ctx)
            deadline = time.monotonic() + 5
            while len(rx.requests) < 4 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            assert len(rx.requests) == 4
            (delivery,) = ctx.store.deliveries.values()
            assert delivery["state"] == "failed"
            # The mock records when each attempt was due on its clock: 5, 10 and 20 mock seconds apart.
            ats = [attempt["scheduled_at"] for attempt in delivery["attempts"]]
            gaps = [round(b - a, 6) for a, b in zip(ats, ats[1:], strict=False)]
            assert gaps == [5.0, 10.0, 20.0], ats
            # At scale 0.01 that is 50/100/200 ms of real time; only a generous safety bound on the wall.
            walls = [attempt["wall"] for attempt in delivery["attempts"]]
            assert 0.2 <= walls[-1] - walls[0] < 3.0, walls

    run(scenario)


@pytest.mark.parametrize(
    ("path", "failure"),
    [
        ("/hang", "timeout"),
        ("/trickle", "timeout"),
        ("/reset", "reset"),
        ("/close", "reset"),
        ("/garbage", "error"),
        ("/huge", "error"),
        ("/redirect", "redirect"),
        ("/status/404", "status"),
    ],
)
def test_misbehaving_receivers_are_recorded_failures_and_retried(path: str, failure: str) -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender(webhook_timeout=0.3, max_body_bytes=256 * 1024) as ctx:
            add_webhook(ctx, rx.url(path))
            emit_note(ctx)
            started = time.monotonic()
            await ctx.timers.settle()
            assert time.monotonic() - started < 3
            delivery = ctx.store.deliveries.values()[0]
            first = delivery["attempts"][0]
            assert first["failure"] == failure, first
            assert len(first["response_body"]) <= ctx.settings.recorded_body_bytes
            assert delivery["state"] == "pending" and delivery["next_attempt_at"] == first["scheduled_at"] + 5
            ctx.clock.advance(5)
            await ctx.timers.settle()
            assert [a["failure"] for a in delivery["attempts"]] == [failure, failure]

    run(scenario)


@pytest.mark.parametrize(
    ("url", "failure"), [("ftp://127.0.0.1/hook", "invalid_url"), ("http:///nohost", "invalid_url")]
)
def test_bad_urls_are_recorded_failures(url: str, failure: str) -> None:
    async def scenario() -> None:
        async with running_sender() as ctx:
            add_webhook(ctx, url)
            emit_note(ctx)
            await ctx.timers.settle()
            attempt = ctx.store.deliveries.values()[0]["attempts"][0]
            assert attempt["failure"] == failure and attempt["status"] is None and attempt["error"]

    run(scenario)


def test_a_refused_connection_is_a_failure_and_a_retry() -> None:
    async def scenario() -> None:
        rx = ScriptedReceiver()
        await rx.__aenter__()
        url = rx.url("/hook")
        await rx.close()  # nothing listens any more
        async with running_sender() as ctx:
            add_webhook(ctx, url)
            emit_note(ctx)
            await ctx.timers.settle()
            delivery = ctx.store.deliveries.values()[0]
            assert delivery["attempts"][0]["failure"] == "refused"
            assert delivery["state"] == "pending"

    run(scenario)


def test_recorded_answer_is_cut_at_recorded_body_bytes() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender(recorded_body_bytes=5) as ctx:
            add_webhook(ctx, rx.url("/ok"))
            emit_note(ctx)
            await ctx.timers.settle()
            assert ctx.store.deliveries.values()[0]["attempts"][0]["response_body"] == '{"ok"'

    run(scenario)


def test_deleting_a_webhook_stops_its_pending_retries() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            hook = add_webhook(ctx, rx.url("/status/500"))
            emit_note(ctx)
            await ctx.timers.settle()
            ctx.store.webhooks.delete(hook["uuid"])
            ctx.sender.on_webhook_deleted(hook["uuid"])
            assert not [key for _, key in ctx.timers.pending() if key and key.startswith("delivery:")]
            ctx.clock.advance(100)
            await ctx.timers.settle()
            delivery = ctx.store.deliveries.values()[0]
            assert len(rx.requests) == 1 and delivery["state"] == "cancelled"
            assert delivery["next_attempt_at"] is None and "deleted" in delivery["cancelled_reason"]

    run(scenario)


def test_a_deactivated_webhook_receives_nothing_more() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            hook = add_webhook(ctx, rx.url("/status/500"))
            emit_note(ctx)
            await ctx.timers.settle()
            hook["active"] = False
            ctx.sender.on_webhook_changed(hook["uuid"])
            emit_note(ctx)
            ctx.clock.advance(100)
            await ctx.timers.settle()
            assert len(rx.requests) == 1
            assert [d["state"] for d in ctx.store.deliveries.values()] == ["cancelled"]

    run(scenario)


def test_batching_gathers_a_window_of_events_into_one_delivery() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender(batch_window=2.0) as ctx:
            hook = add_webhook(ctx, rx.url("/ok"))
            first, second = emit_note(ctx), emit_document(ctx)
            await ctx.timers.settle()
            assert rx.requests == []  # the window is still open
            ctx.clock.advance(1)
            third = emit_note(ctx)
            ctx.clock.advance(1)
            await ctx.timers.settle()
            late = emit_note(ctx)  # after the window closed: a new delivery
            ctx.clock.advance(2)
            await ctx.timers.settle()
            assert len(rx.requests) == 2
            envelope = assert_envelope(rx.requests[0].body)
            assert [e["id"] for e in envelope["events"]] == [e["payload"]["id"] for e in (first, second, third)]
            assert envelope["meta"]["webhook_id"] == hook["uuid"]
            batch, single = ctx.store.deliveries.values()
            assert batch["event_ids"] == [first["event_id"], second["event_id"], third["event_id"]]
            assert batch["actions"] == ["new_note", "new_document", "new_note"]
            assert single["event_ids"] == [late["event_id"]]
            assert batch["attempts"][0]["scheduled_at"] == batch["created_at"] + 2

    run(scenario)


def test_the_bounded_log_never_evicts_pending_or_failed_deliveries() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender(delivery_limit=3) as ctx:
            bad = add_webhook(ctx, rx.url("/status/500"), ["new_document"])
            add_webhook(ctx, rx.url("/ok"), ["new_note"])
            emit_document(ctx)
            for _ in range(6):
                emit_note(ctx)
                await ctx.timers.settle()
            table = ctx.store.deliveries
            assert len(table) == 3 and table.dropped == 4
            assert any(d["webhook_id"] == bad["uuid"] and d["state"] == "pending" for d in table)

    run(scenario)
