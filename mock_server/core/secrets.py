"""The secrets one mock keeps: client secret, link-signing key, webhook signing secret.

Each is random per start unless set, and kept in the store's ``meta`` when ``--state`` is used,
so a restart does not break links, tokens or signatures already handed out.
"""

from __future__ import annotations

import base64
import secrets

from mock_server.core.store import SqliteBackend, Store

WEBHOOK_SECRET_PREFIX = "whsec_"


def persisted(store: Store, name: str, fresh: str) -> str:
    """A secret kept across restarts when ``--state`` is used (a restart must not break old links)."""
    record = store.meta.get(name)
    if record is not None:
        return str(record["value"])
    if isinstance(store.backend, SqliteBackend):
        store.meta.put(name, {"value": fresh})
    return fresh


def new_webhook_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes, as Standard Webhooks secrets look."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()
