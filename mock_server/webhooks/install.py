"""Attach the webhook sender to a new context: listener, lifecycle hooks, callbacks, fault kinds."""

from __future__ import annotations

from mock_server.context import MockContext
from mock_server.webhooks import faults
from mock_server.webhooks.records import is_protected
from mock_server.webhooks.sender import WebhookSender
from mock_server.webhooks.signing import ensure_webhook_secret, restore_webhook_secret

GENERATE = "generate"
"""``--webhook-secret generate``: sign with a fresh secret, shown by ``GET /_mock/credentials``."""


def install(ctx: MockContext) -> None:
    """Called by ``create_app`` for every new app (nothing is shared between two mocks)."""
    if ctx.webhook_secret == GENERATE:
        ctx.webhook_secret = None
        restore_webhook_secret(ctx)
        ensure_webhook_secret(ctx)
    restore_webhook_secret(ctx)
    sender = WebhookSender(ctx)
    ctx.store.deliveries.keep = is_protected
    ctx.event_listeners.append(sender.on_event)
    ctx.extensions.setdefault("startup", []).append(sender.startup)
    ctx.extensions.setdefault("shutdown", []).append(sender.shutdown)
    ctx.extensions["sender"] = sender
    ctx.extensions["on_webhook_deleted"] = sender.on_webhook_deleted
    ctx.extensions["on_webhook_changed"] = sender.on_webhook_changed
    ctx.extensions.setdefault("on_reset", []).append(sender.on_reset)
    faults.register(ctx)
