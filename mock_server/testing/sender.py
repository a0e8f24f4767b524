"""Helpers to drive the sender in process, without the HTTP API: for tests, the bench, the harness.

``async with running_sender(clock="manual") as ctx:`` gives a started context (timers and the
sender's start-up hook run, shutdown on exit); :func:`add_webhook` puts a webhook record in the
store as the /webhooks API would; :func:`emit_note` and :func:`emit_document` fire events with
payloads shaped as Askara's guides show. An error raised in a timer callback (an attempt, a retry)
is re-raised by :func:`settle`, by :func:`stop` and on leaving ``running_sender``, so a test can
never pass over a sender that crashed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from mock_server.core.context import MockContext
from mock_server.core.settings import Settings
from mock_server.core.store import Record
from mock_server.sender._transports.base import Transport
from mock_server.sender.dispatch import WebhookSender
from mock_server.sender.install import install

START = 1_780_000_000.0
USER_ID = "7c4e0a5e-1d7a-4a43-9d7e-0d7f3c1b2a11"
ORGANIZATION_ID = "0b9e2f6c-8a51-4c1e-9f0f-5d2a7e3c4b22"


def sender_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"client_secret": "test-client-secret", "clock": "manual", "clock_start": START}
    base.update(overrides)
    return Settings(**base)


def build_context(settings: Settings, transport: Transport | None = None) -> MockContext:
    """A context with the sender installed (no seed data: tests add what they need)."""
    ctx = MockContext(settings)
    install(ctx)
    if transport is not None:
        sender(ctx).transport = transport
    return ctx


def sender(ctx: MockContext) -> WebhookSender:
    return ctx.sender


async def start(ctx: MockContext) -> None:
    await ctx.timers.start()
    for hook in ctx.startup_hooks:
        await hook()


async def settle(ctx: MockContext) -> None:
    """Let every due attempt run to its end; raises what a timer callback raised."""
    await ctx.timers.settle()


async def stop(ctx: MockContext, *, check: bool = True) -> None:
    """Shut down as the app does; then (``check``) raise what a timer callback raised."""
    for hook in ctx.shutdown_hooks:
        await hook()
    await ctx.timers.stop()
    ctx.store.close()
    if check:
        ctx.timers.raise_errors()


@asynccontextmanager
async def running_sender(transport: Transport | None = None, **overrides: Any) -> AsyncIterator[MockContext]:
    ctx = build_context(sender_settings(**overrides), transport)
    await start(ctx)
    try:
        yield ctx
    finally:
        await stop(ctx, check=False)
    ctx.timers.raise_errors()  # only when the body ended well: never mask the test's own failure


def add_webhook(ctx: MockContext, url: str, events: list[str] | None = None, *, active: bool = True) -> Record:
    now = _iso(ctx.clock.now())
    record: Record = {
        "uuid": str(uuid.uuid4()),
        "url": url,
        "events": events or ["new_document", "document_synchronize", "new_note"],
        "active": active,
        "createdAt": now,
        "updatedAt": now,
    }
    return ctx.store.webhooks.put(record["uuid"], record)


def emit_note(ctx: MockContext, note_uuid: str | None = None) -> Record:
    now = _iso(ctx.clock.now())
    note = {
        "uuid": note_uuid or str(uuid.uuid4()),
        "type": "consultation_summary",
        "content": "Patient seen for follow-up; blood pressure stable.",
        "createdAt": now,
        "updatedAt": now,
        "patient": {"uuid": str(uuid.uuid4()), "firstName": "Camille", "lastName": "Martin"},
        "_user_id": USER_ID,
    }
    return ctx.emit("new_note", "note", note, user_id=USER_ID, organization_id=ORGANIZATION_ID)


def emit_document(ctx: MockContext, action: str = "new_document", document_uuid: str | None = None) -> Record:
    document_uuid = document_uuid or str(uuid.uuid4())
    document = {
        "uuid": document_uuid,
        "type": "referral_letter",
        "state": "verified",
        "patient": {"uuid": str(uuid.uuid4()), "externalId": "EXT-42", "firstName": "Louis", "lastName": "Petit"},
        "pdf": {"url": f"http://127.0.0.1:8765/files/{document_uuid}.pdf?expires=1&signature=x",
                "fileName": "letter.pdf"},
    }
    return ctx.emit(action, "document", document, user_id=USER_ID, organization_id=ORGANIZATION_ID)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")
