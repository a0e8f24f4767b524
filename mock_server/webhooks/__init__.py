"""The webhook sender: Askara's deliveries, retries and failure queue, on the injected clock."""

from __future__ import annotations

from mock_server.webhooks.signing import ensure_webhook_secret

__all__ = ["ensure_webhook_secret"]
