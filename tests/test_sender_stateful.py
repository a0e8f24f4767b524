"""Hypothesis state machine: any mix of receiver behaviours and clock moves keeps the sender honest.

Every event ends delivered or in the failure queue (never both, never lost), and no attempt
happens off schedule: each main attempt is scheduled at created + 0/5/15/35 and runs at the first
mock time the clock reached at or after that. In-process transport, manual clock, no sleeping.
"""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mock_server.sender._transports.base import DeliveryFailure
from mock_server.sender._transports.function import FunctionTransport
from mock_server.testing.sender import add_webhook, build_context, emit_note, sender_settings, start, stop

BEHAVIOURS = ("ok", "500", "timeout", "refused")
OFFSETS = tuple(itertools.accumulate((0.0, 5.0, 10.0, 20.0)))


class SenderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.behaviour = "ok"
        self.ctx = build_context(sender_settings(webhook_timeout=0.02), FunctionTransport(self.receive))
        self.loop.run_until_complete(start(self.ctx))
        self.hooks = [add_webhook(self.ctx, "http://127.0.0.1:9/a", ["new_note"]),
                      add_webhook(self.ctx, "http://127.0.0.1:9/b", ["new_note"])]
        self.emitted: list[str] = []
        self.marks = [self.ctx.clock.now()]

    async def receive(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.behaviour == "500":
            return 500, b"nope"
        if self.behaviour == "timeout":
            await asyncio.sleep(5)
        if self.behaviour == "refused":
            raise DeliveryFailure("refused", "scripted refusal")
        return 200, b"ok"

    def settle(self) -> None:
        self.loop.run_until_complete(self.ctx.timers.settle())

    @rule(behaviour=st.sampled_from(BEHAVIOURS))
    def receiver_behaves(self, behaviour: str) -> None:
        self.behaviour = behaviour

    @rule()
    def an_event(self) -> None:
        self.emitted.append(emit_note(self.ctx)["event_id"])
        self.settle()

    @rule(seconds=st.sampled_from([0.5, 4.9, 5.0, 10.0, 15.0, 20.0, 35.0, 100.0]) | st.floats(0.0, 60.0))
    def clock_moves(self, seconds: float) -> None:
        self.ctx.clock.advance(seconds)
        self.settle()
        self.marks.append(self.ctx.clock.now())

    @invariant()
    def deliveries_are_consistent(self) -> None:
        deliveries = self.ctx.store.deliveries.values()
        assert sorted(e for d in deliveries for e in d["event_ids"]) == sorted(self.emitted * len(self.hooks))
        for delivery in deliveries:
            main = [a for a in delivery["attempts"] if a["kind"] in ("scheduled", "retry")]
            assert [a["scheduled_at"] for a in main] == [delivery["created_at"] + o for o in OFFSETS[: len(main)]]
            for attempt in main:
                assert attempt["at"] == min(m for m in self.marks if m >= attempt["scheduled_at"])
            failed = [a["failure"] is not None for a in main]
            if delivery["state"] == "delivered":
                assert failed and failed[-1] is False and all(failed[:-1])
            elif delivery["state"] == "failed":
                assert failed == [True] * len(OFFSETS) and delivery["next_attempt_at"] is None
            else:
                assert delivery["state"] == "pending" and all(failed)
                assert delivery["next_attempt_at"] == delivery["created_at"] + OFFSETS[len(main)]

    def teardown(self) -> None:
        try:
            self.ctx.clock.advance(100)
            self.settle()
            self.marks.append(self.ctx.clock.now())
            self.deliveries_are_consistent()
            states = [d["state"] for d in self.ctx.store.deliveries]
            assert set(states) <= {"delivered", "failed"}
            failures = [d for d in self.ctx.store.deliveries if d["state"] == "failed"]
            delivered = [d for d in self.ctx.store.deliveries if d["state"] == "delivered"]
            assert len(failures) + len(delivered) == len(self.emitted) * len(self.hooks)
        finally:
            self.loop.run_until_complete(stop(self.ctx))
            self.loop.close()


SenderMachine.TestCase.settings = settings(stateful_step_count=20)
TestSenderStateMachine = SenderMachine.TestCase
