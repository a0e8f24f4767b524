"""Delivery records: their shape, and the small pure functions the sender applies to them."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from mock_server.core.store import Record


def is_protected(record: Record) -> bool:
    """Pending and failed deliveries are never evicted from the bounded log."""
    return record.get("state") in ("pending", "failed")


def new_record(
    delivery_id: str,
    webhook: Record,
    event_ids: list[str],
    payloads: list[Record],
    now: float,
    *,
    next_attempt_at: float | None,
    batch_open_until: float | None = None,
    after: str | None = None,
    fault: str | None = None,
) -> Record:
    """A pending delivery of ``payloads`` to ``webhook`` in the documented envelope."""
    return {
        "id": delivery_id,
        "webhook_id": webhook["uuid"],
        "url": webhook.get("url"),
        "event_ids": list(event_ids),
        "resource_ids": [None if p.get("id") is None else str(p.get("id")) for p in payloads],
        "actions": [p.get("action") for p in payloads],
        "body": orjson.dumps({"events": payloads, "meta": {"webhook_id": webhook["uuid"]}}).decode(),
        "state": "pending",
        "created_at": now,
        "next_attempt_at": next_attempt_at,
        "attempts": [],
        "fault": fault,
        "fault_params": {},
        "batch_open_until": batch_open_until,
        "after": after,
        "pending_copies": [],
    }


def lose_answer(fields: Record) -> Record:
    """The ``lost_ack`` fault: the receiver answered, but the sender never saw it."""
    outcome = dataclasses.replace(fields["_outcome"], failure="lost_ack", error="answer lost (lost_ack fault)")
    return {**fields, "failure": "lost_ack", "error": outcome.error, "_outcome": outcome}


def copy_key(delivery_id: str, due: float) -> str:
    return f"delivery:{delivery_id}:copy:{due!r}"


def merge_faults(record: Record, applied: dict[str, Any]) -> None:
    if not applied:
        return
    record["fault_params"] = {**applied, **(record.get("fault_params") or {})}
    record["fault"] = "+".join(record["fault_params"])


def public_payload(payload: Record) -> Record:
    """The envelope entry without internal ``_`` keys of the resource (never served publicly)."""
    metadata = payload.get("metadata")
    if not isinstance(metadata, dict):
        return payload
    clean = {
        name: {k: v for k, v in value.items() if not k.startswith("_")} if isinstance(value, dict) else value
        for name, value in metadata.items()
    }
    return {**payload, "metadata": clean}
