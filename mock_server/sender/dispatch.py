"""The webhook sender: events in, deliveries out, retried on the mock clock, every attempt recorded.

A delivery is one POST body for one webhook (one event, or several when ``batch_window`` > 0),
kept in ``store.deliveries`` with all its attempts. Its life::

    pending --2xx--> delivered
    pending --failure--> retry at +5, +15, +35 s (``retry_delays``, :mod:`.schedule`) --still failing--> failed
    pending --webhook deleted or deactivated--> cancelled
    failed/pending --redeliver ok--> delivered

Retries are scheduled from the previous attempt's *scheduled* time (or from the first attempt's,
``retry_reading="offsets"``), and the next one is only armed once the previous attempt has
finished, so even a manual clock that jumps 35 s at once records 0/5/15/35 and runs them in order.
``next_attempt_at`` stays set until an attempt is recorded: a mock killed mid-attempt re-arms it
on start-up (same time, same body, same ids).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from mock_server.core.context import MockContext
from mock_server.core.errors import Conflict
from mock_server.core.store import Record
from mock_server.core.tls import client_context
from mock_server.faults import delivery as delivery_faults
from mock_server.sender._transports.base import DestinationLimiter, Outcome, Transport
from mock_server.sender._transports.http1 import Http1Client
from mock_server.sender.attempts import send_attempt
from mock_server.sender.records import copy_key, lose_answer, merge_faults, new_record, public_payload
from mock_server.sender.schedule import next_retry_at

MAIN_KINDS = ("scheduled", "retry")
HELD_KEY = "webhook_held_event"


def default_transport(webhook_ca: str | None = None) -> Transport:
    """The minimal keep-alive client (:mod:`._transports.http1`); why it, and its numbers: bench/README.md.

    ``https`` receivers are checked against the system store plus ``webhook_ca`` (``serve --webhook-ca``).
    Without ``webhook_ca`` the client loads the system store on its first ``https`` delivery: loading it
    costs ~20 ms that a mock delivering to ``http`` receivers never needs (bench/README.md "Start-up");
    a given ``webhook_ca`` is read now, so a bad file stops ``serve`` rather than a delivery."""
    return Http1Client(ssl_context=client_context(webhook_ca) if webhook_ca else None)


class WebhookSender:
    def __init__(self, ctx: MockContext, transport: Transport | None = None, *, wall: Callable[[], float] = time.time):
        self.ctx = ctx
        self.settings = ctx.settings
        self.store = ctx.store
        self.clock = ctx.clock
        self.timers = ctx.timers
        self.transport: Transport = transport or default_transport(ctx.settings.webhook_ca)
        self.wall = wall
        """Real time, for ``wall`` in attempts and signature timestamps (never the mock clock)."""
        self._open_batches: dict[str, str] = {}
        self._fault_batches: dict[tuple[str, str], str] = {}
        """Deliveries gathering the events of a ``batch`` fault, by (webhook, fault id)."""
        self._waiting: dict[str, list[str]] = {}
        self._seq = itertools.count(1)
        self.limiter = DestinationLimiter(100)

    # -- events in ----------------------------------------------------------------------------

    def on_event(self, event: Record) -> None:
        """Event listener: fan the event out to every active webhook subscribed to its action."""
        targets = self._targets(event["payload"].get("action"))
        if not targets:
            return
        held = self.store.meta.get(HELD_KEY)
        if held is not None and not delivery_faults.out_of_order_armed(self.ctx):
            self.release_held()
            held = None
        if held is None and delivery_faults.out_of_order_armed(self.ctx):
            self.store.meta.put(HELD_KEY, {"event_id": event["event_id"], "at": self.clock.now()})
            return
        created = self._fan_out(event, targets)
        if held is not None:
            delivery_faults.spend_out_of_order(self.ctx)
            self.store.meta.delete(HELD_KEY)
            first = self.store.events.get(held["event_id"])
            if first is not None:
                self._fan_out(first, self._targets(first["payload"].get("action")), after=created)

    def release_held(self) -> None:
        """Send an event held by ``out_of_order`` now (the fault was cleared before its pair came)."""
        held = self.store.meta.delete(HELD_KEY)
        event = self.store.events.get(held["event_id"]) if held else None
        if event is not None:
            self._fan_out(event, self._targets(event["payload"].get("action")))

    def _targets(self, action: object) -> list[Record]:
        return [w for w in self.store.webhooks if w.get("active") and action in (w.get("events") or [])]

    def _fan_out(self, event: Record, targets: list[Record], *, after: dict[str, str] | None = None) -> dict[str, str]:
        if not targets:
            return {}
        applied = delivery_faults.take_for_event(self.ctx)
        payload = public_payload(event["payload"])
        after = after or {}
        return {w["uuid"]: self._add(w, event["event_id"], payload, applied, after.get(w["uuid"])) for w in targets}

    def _add(self, webhook: Record, event_id: str, payload: Record, applied: dict[str, Any], after: str | None) -> str:
        now = self.clock.now()
        window = self.settings.batch_window
        batch = applied.get("batch")
        gathering = self._gathering(webhook, batch, window, after, now)
        if gathering is not None:
            envelope = orjson.loads(gathering["body"])
            envelope["events"].append(payload)
            gathering["body"] = orjson.dumps(envelope).decode()
            gathering["event_ids"].append(event_id)
            gathering["resource_ids"].append(payload.get("id"))
            gathering["actions"].append(payload.get("action"))
            merge_faults(gathering, applied)
            self.store.deliveries.save(gathering["id"])
            if batch is not None and batch.get("last"):
                self._close_fault_batch(webhook, batch, gathering)
            return str(gathering["id"])
        delivery_id = "dlv_" + uuid.uuid4().hex
        windowed = window > 0 and after is None and batch is None
        held = after is not None or (batch is not None and not batch.get("last"))
        due = now + window if windowed else now
        record = new_record(
            delivery_id,
            webhook,
            [event_id],
            [payload],
            now,
            next_attempt_at=None if held else due,
            batch_open_until=due if windowed else None,
            after=after,
        )
        merge_faults(record, applied)
        self.store.deliveries.put(delivery_id, record)
        if after:
            self._waiting.setdefault(after, []).append(delivery_id)
        elif held:
            self._fault_batches[(webhook["uuid"], batch["fault_id"])] = delivery_id  # type: ignore[index]
        else:
            if windowed:
                self._open_batches[webhook["uuid"]] = delivery_id
            self._arm(delivery_id, due, "scheduled")
        return delivery_id

    def _gathering(
        self, webhook: Record, batch: dict[str, Any] | None, window: float, after: str | None, now: float
    ) -> Record | None:
        """The pending delivery this event joins: a ``batch`` fault's, or the webhook's open window."""
        if batch is not None:
            open_id = self._fault_batches.get((webhook["uuid"], batch["fault_id"]))
            record = self.store.deliveries.get(open_id) if open_id else None
            return record if record is not None and record["state"] == "pending" and not record["attempts"] else None
        if window <= 0 or after is not None:
            return None
        open_id = self._open_batches.get(webhook["uuid"])
        record = self.store.deliveries.get(open_id) if open_id else None
        if (
            record is not None
            and record["state"] == "pending"
            and not record["attempts"]
            and (now < (record.get("batch_open_until") or 0))
        ):
            return record
        return None

    def _close_fault_batch(self, webhook: Record, batch: dict[str, Any], record: Record) -> None:
        """The last event of a ``batch`` fault arrived: send the gathered delivery now."""
        self._fault_batches.pop((webhook["uuid"], batch["fault_id"]), None)
        now = self.clock.now()
        record["next_attempt_at"] = now
        self.store.deliveries.save(record["id"])
        self._arm(record["id"], now, "scheduled")

    def send_raw(self, webhook_id: str, events: list[Record]) -> Record:
        """Deliver arbitrary ``events[]`` to one webhook (unknown actions, hand-made or unusual
        payloads), with the same envelope, signature, retries and record as any delivery."""
        webhook = self.store.webhooks.require(webhook_id, "Webhook")
        if not webhook.get("active"):
            raise Conflict(f'Webhook "{webhook_id}" is inactive: an inactive webhook receives nothing.')
        now = self.clock.now()
        delivery_id = "dlv_" + uuid.uuid4().hex
        event_ids = ["raw_" + uuid.uuid4().hex[:16] for _ in events]
        record = new_record(delivery_id, webhook, event_ids, events, now, next_attempt_at=now, fault="raw")
        self.store.deliveries.put(delivery_id, record)
        self._arm(delivery_id, now, "scheduled")
        return record

    # -- attempts -----------------------------------------------------------------------------

    def _arm(self, delivery_id: str, due: float, kind: str) -> None:
        self.timers.call_at(due, lambda: self._run(delivery_id, kind, due), key=f"delivery:{delivery_id}")

    def _arm_copy(self, delivery_id: str, due: float) -> None:
        self.timers.call_at(due, lambda: self._run_copy(delivery_id, due), key=copy_key(delivery_id, due))

    def _cancel_copies(self, record: Record) -> None:
        for copy in record.get("pending_copies") or []:
            self.timers.cancel(copy_key(record["id"], copy["due"]))

    async def _run(self, delivery_id: str, kind: str, scheduled_at: float) -> None:
        record = self.store.deliveries.get(delivery_id)
        if record is None or record["state"] != "pending" or record["next_attempt_at"] != scheduled_at:
            return
        webhook = self._live_webhook(record)
        if webhook is None:
            return
        if self._open_batches.get(record["webhook_id"]) == delivery_id:
            del self._open_batches[record["webhook_id"]]
        record["batch_open_until"] = None
        params = record.get("fault_params") or {}
        first = not any(a["kind"] in MAIN_KINDS for a in record["attempts"])
        copies = int(params["concurrent"]["copies"]) if first and "concurrent" in params else 1
        if copies == 1:
            results = [await self._send(record, webhook)]
        else:
            results = await asyncio.gather(*(self._send(record, webhook) for _ in range(copies)))
        main = results[0]
        if first and "lost_ack" in params and main["_outcome"].ok:
            main = lose_answer(main)
        self._record(record, kind, scheduled_at, main)
        for extra in results[1:]:
            self._record(record, "concurrent", scheduled_at, extra)
        if record["state"] == "pending":
            self._settle_main(record, main["_outcome"])
        self._save(record)
        if first:
            self._release_waiting(delivery_id)
            if "duplicate" in params:
                await self._duplicate(record, webhook, scheduled_at, params["duplicate"])

    def _settle_main(self, record: Record, outcome: Outcome) -> None:
        """After a scheduled attempt: delivered, the next retry armed, or failed for good."""
        if outcome.ok:
            record["state"], record["next_attempt_at"] = "delivered", None
            return
        due = next_retry_at(self.settings, [a["scheduled_at"] for a in record["attempts"] if a["kind"] in MAIN_KINDS])
        if due is not None:
            record["next_attempt_at"] = due
            self._arm(record["id"], due, "retry")
        else:
            record["state"], record["next_attempt_at"] = "failed", None

    async def _duplicate(self, record: Record, webhook: Record, scheduled_at: float, params: dict[str, Any]) -> None:
        copies, delay = int(params.get("copies", 2)), float(params.get("delay", 0.0))
        if delay <= 0:
            for _ in range(copies - 1):
                self._record(record, "duplicate", scheduled_at, await self._send(record, webhook))
            self._save(record)
            return
        for index in range(1, copies):
            due = scheduled_at + delay * index
            record["pending_copies"].append({"kind": "duplicate", "due": due})
            self._arm_copy(record["id"], due)
        self._save(record)

    async def _run_copy(self, delivery_id: str, due: float) -> None:
        record = self.store.deliveries.get(delivery_id)
        if record is None or not any(c["due"] == due for c in record.get("pending_copies", [])):
            return
        record["pending_copies"] = [c for c in record["pending_copies"] if c["due"] != due]
        webhook = self._live_webhook(record, cancel=False)
        if webhook is None:
            self._save(record)
            return
        self._record(record, "duplicate", due, await self._send(record, webhook))
        self._save(record)

    def _release_waiting(self, delivery_id: str) -> None:
        """Deliveries held back by ``out_of_order`` go once the one they wait for has been sent."""
        for waiting_id in self._waiting.pop(delivery_id, []):
            waiting = self.store.deliveries.get(waiting_id)
            if waiting is not None and waiting["state"] == "pending" and waiting["next_attempt_at"] is None:
                now = self.clock.now()
                waiting["next_attempt_at"] = now
                self._save(waiting)
                self._arm(waiting_id, now, "scheduled")

    async def _send(self, record: Record, webhook: Record, *, forge: bool = True) -> Record:
        return await send_attempt(self.ctx, self.transport, self.limiter, self.wall, record, webhook, forge=forge)

    def _record(self, record: Record, kind: str, scheduled_at: float, fields: Record) -> None:
        fields = dict(fields)
        fields.pop("_outcome", None)
        record["attempts"].append(
            {"n": len(record["attempts"]) + 1, "kind": kind, "scheduled_at": scheduled_at, **fields}
        )

    def _save(self, record: Record) -> None:
        if record["id"] in self.store.deliveries:
            self.store.deliveries.save(record["id"])

    def _live_webhook(self, record: Record, *, cancel: bool = True) -> Record | None:
        """The delivery's webhook if it still exists and is active; otherwise cancel the delivery."""
        webhook = self.store.webhooks.get(record["webhook_id"])
        if webhook is not None and webhook.get("active"):
            return webhook
        if cancel:
            self.cancel(record, "the webhook was deleted" if webhook is None else "the webhook is inactive")
        return None

    # -- control --------------------------------------------------------------------------------

    def redeliver(self, delivery_id: str) -> Record:
        """Arm a fresh attempt now (``kind: redeliver``, genuine signature); answer the delivery."""
        record = self.store.deliveries.require(delivery_id, "Delivery")
        webhook = self.store.webhooks.get(record["webhook_id"])
        if webhook is None:
            raise Conflict(
                f'Delivery "{delivery_id}" cannot be redelivered: its webhook "{record["webhook_id"]}" was deleted.'
            )
        if not webhook.get("active"):
            raise Conflict(
                f'Delivery "{delivery_id}" cannot be redelivered: its webhook '
                f'"{record["webhook_id"]}" is inactive (an inactive webhook receives nothing).'
            )
        due = self.clock.now()
        key = f"redeliver:{delivery_id}:{next(self._seq)}"
        self.timers.call_at(due, lambda: self._redeliver(delivery_id, due), key=key)
        return record

    async def _redeliver(self, delivery_id: str, scheduled_at: float) -> None:
        record = self.store.deliveries.get(delivery_id)
        webhook = self.store.webhooks.get(record["webhook_id"]) if record else None
        if record is None or webhook is None or not webhook.get("active"):
            return
        fields = await self._send(record, webhook, forge=False)
        self._record(record, "redeliver", scheduled_at, fields)
        if fields["_outcome"].ok and record["state"] in ("pending", "failed", "cancelled"):
            self.timers.cancel(f"delivery:{delivery_id}")
            record["state"], record["next_attempt_at"] = "delivered", None
        self._save(record)

    def cancel(self, record: Record, reason: str) -> None:
        """Stop a pending delivery for good (its webhook is gone or inactive)."""
        if record["state"] != "pending":
            return
        self.timers.cancel(f"delivery:{record['id']}")
        record["state"], record["next_attempt_at"], record["cancelled_reason"] = "cancelled", None, reason
        if self._open_batches.get(record["webhook_id"]) == record["id"]:
            del self._open_batches[record["webhook_id"]]
        self._save(record)

    def on_webhook_deleted(self, webhook_id: str) -> None:
        for record in self.store.deliveries:
            if record["webhook_id"] == webhook_id:
                self.cancel(record, "the webhook was deleted")
                self._cancel_copies(record)

    def on_webhook_changed(self, webhook_id: str) -> None:
        """A deactivated webhook gets nothing more; a changed URL is used from the next attempt."""
        webhook = self.store.webhooks.get(webhook_id)
        if webhook is None:
            self.on_webhook_deleted(webhook_id)
        elif not webhook.get("active"):
            for record in self.store.deliveries:
                if record["webhook_id"] == webhook_id:
                    self.cancel(record, "the webhook is inactive")

    def on_reset(self, *_: object) -> None:
        """Back to nothing: every timer cancelled, the delivery log emptied."""
        for _due, key in self.timers.pending():
            if key is not None and key.startswith(("delivery:", "redeliver:")):
                self.timers.cancel(key)
        self._open_batches.clear()
        self._fault_batches.clear()
        self._waiting.clear()
        self.store.deliveries.clear()
        self.store.deliveries.dropped = 0
        self.store.meta.delete(HELD_KEY)

    # -- lifecycle ------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Re-arm every pending delivery at its scheduled time (at once when overdue)."""
        for record in self.store.deliveries:
            if record["state"] != "pending":
                continue
            if record["next_attempt_at"] is None:
                other = self.store.deliveries.get(record.get("after") or "")
                if other is None or other["attempts"] or other["state"] != "pending":
                    now = self.clock.now()
                    record["next_attempt_at"] = now
                    self._save(record)
                    self._arm(record["id"], now, "scheduled")
                else:
                    self._waiting.setdefault(other["id"], []).append(record["id"])
            else:
                kind = "retry" if any(a["kind"] in MAIN_KINDS for a in record["attempts"]) else "scheduled"
                self._arm(record["id"], float(record["next_attempt_at"]), kind)
                if record.get("batch_open_until") is not None and not record["attempts"]:
                    self._open_batches[record["webhook_id"]] = record["id"]
        for record in self.store.deliveries:
            for copy in record.get("pending_copies") or []:
                self._arm_copy(record["id"], float(copy["due"]))

    async def shutdown(self) -> None:
        """Stop the timers first, so no attempt opens a new session after the transport closed."""
        await self.timers.stop()
        await self.transport.close()
