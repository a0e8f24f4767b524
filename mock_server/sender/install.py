"""Attach the webhook sender to a new context: listener, lifecycle hooks, callbacks, fault kinds."""

from __future__ import annotations

from mock_server.core.context import MockContext
from mock_server.faults import delivery as delivery_faults
from mock_server.sender.dispatch import WebhookSender
from mock_server.sender.records import is_protected

GENERATE = "generate"
"""``--webhook-secret generate``: sign with a fresh secret, shown by ``GET /_mock/credentials``."""


def install(ctx: MockContext) -> None:
    """Called by ``create_app`` for every new app (nothing is shared between two mocks)."""
    if ctx.webhook_secret == GENERATE:
        ctx.webhook_secret = None
        ctx.restore_webhook_secret()
        ctx.ensure_webhook_secret()
    ctx.restore_webhook_secret()
    sender = WebhookSender(ctx)
    ctx.store.deliveries.keep = is_protected
    ctx.event_listeners.append(sender.on_event)
    ctx.startup_hooks.append(sender.startup)
    ctx.shutdown_hooks.append(sender.shutdown)
    ctx.reset_hooks.append(sender.on_reset)
    ctx.sender = sender
    delivery_faults.register(ctx)
