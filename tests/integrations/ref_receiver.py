"""The webhook receiver: verify the Standard Webhooks signature on the RAW body, answer 200 at once, queue the work.

Answering before doing anything slow is the guide's first rule (200 within 5 s); the queue and
its workers do the downloads later, so a delivery is acknowledged in milliseconds.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from ref_defects import Defects
from ref_importer import KNOWN_ACTIONS, NOTE_ACTIONS, Importer
from starlette.requests import Request
from starlette.responses import JSONResponse

log = logging.getLogger("reference")

TIMESTAMP_TOLERANCE = 300
SLOW_ACK_SECONDS = 6.0


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (Standard Webhooks); a non-base64 secret is used as is."""
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return raw.encode()


def signature_problem(key: bytes, headers: Mapping[str, str], body: bytes, now: float) -> str | None:
    """None when one ``v1,`` signature matches ``{id}.{timestamp}.{body}`` and the timestamp is fresh."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature header"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return f"webhook-timestamp {timestamp!r} is not an integer"
    if abs(now - sent_at) > TIMESTAMP_TOLERANCE:
        return f"webhook-timestamp {sent_at} is more than 5 minutes away from now ({int(now)})"
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    for entry in signatures.split():
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return None
    return "no webhook-signature entry matches the body"


class Receiver:
    """The POST handler and the worker tasks that drain its queue."""

    def __init__(self, importer: Importer, defects: Defects, secret: str | None, verify: bool, mode: str) -> None:
        self.importer = importer
        self.defects = defects
        self.key = secret_key(secret) if (verify and secret) else None
        self.mode = mode
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.seen_events: set[tuple[str, str]] = set()
        self.deliveries = 0

    async def webhook(self, request: Request) -> JSONResponse:
        started = time.monotonic()
        body = await request.body()
        delivery = request.headers.get("webhook-id", "-")
        self.deliveries += 1
        if self.defects.on("slow-ack"):
            await asyncio.sleep(SLOW_ACK_SECONDS)
        status, answer, events = self._judge(request, body)
        if status == 200 and self.defects.on("work-before-ack"):
            for event in events:  # download, save and confirm first: the answer waits for all of it
                await self.importer.handle_event(event)
        elif status == 200:
            for event in events:
                self.queue.put_nowait(event)
        log.info(
            "delivery %s: %d event(s) %s -> %d (%.0f ms)%s",
            delivery,
            len(events),
            [e.get("action") for e in events],
            status,
            1000 * (time.monotonic() - started),
            f" {answer.get('error')}" if "error" in answer else "",
        )
        return JSONResponse(answer, status)

    def _judge(self, request: Request, body: bytes) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
        """The answer to one delivery, and the events to queue."""
        if self.key is not None and not self.defects.on("accept-forged"):
            signed = body
            if self.defects.on("reserialize-body"):
                try:
                    signed = json.dumps(json.loads(body)).encode()
                except ValueError:
                    pass
            problem = signature_problem(self.key, request.headers, signed, time.time())
            if problem is not None:
                return 401, {"error": f"invalid signature: {problem}"}, []
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {"error": "body is not JSON"}, []
        events = payload.get("events") if isinstance(payload, dict) else None
        if not isinstance(events, list):
            return 400, {"error": "body has no events[] list"}, []
        events = [event for event in events if isinstance(event, dict)]
        if self.mode != "webhook":
            return 200, {"received": 0, "note": "polling mode: deliveries are not processed"}, []
        actions = [event.get("action") for event in events]
        if self.defects.on("crash-unknown-event") and any(a not in KNOWN_ACTIONS for a in actions):
            return 500, {"error": "unknown action"}, []
        if self.defects.on("ignore-notes") and any(a in NOTE_ACTIONS for a in actions):
            return 500, {"error": "notes are not supported"}, []
        if self.defects.on("fragile-payloads") and any(_unusual(event) for event in events):
            return 500, {"error": "cannot parse this document"}, []
        if self.defects.on("first-event-only"):
            events = events[:1]
        if self.defects.on("fail-first"):
            keys = {(str(e.get("id")), str(e.get("action"))) for e in events}
            first_time = bool(keys - self.seen_events)
            self.seen_events |= keys
            if first_time:
                for event in events:  # processed anyway: the retry will import it again
                    self.queue.put_nowait(event)
                return 500, {"error": "first delivery refused"}, events
        return 200, {"received": len(events)}, events

    async def worker(self, number: int) -> None:
        await self.importer.api.start_worker(f"worker-{number}")
        while True:
            event = await self.queue.get()
            try:
                await self.importer.handle_event(event)
            except Exception:  # noqa: BLE001 - a worker must survive any event
                log.exception("worker %d: event %r crashed", number, event.get("id"))
            finally:
                self.queue.task_done()


def _unusual(event: dict[str, Any]) -> bool:
    """What a fragile importer chokes on: non-ASCII or long names, null fields."""
    document = (event.get("metadata") or {}).get("document") or {}
    patient = document.get("patient") or {}
    names = [patient.get("firstName"), patient.get("lastName")]
    if any(value is None for value in patient.values()):
        return True
    return any(isinstance(n, str) and (not n.isascii() or len(n) > 100) for n in names)
