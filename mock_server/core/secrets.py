"""The secrets one mock keeps: client secret, the S3 access key signing PDF links, webhook signing secret.

Each is random per start unless set, and kept in the store's ``meta`` when ``--state`` is used,
so a restart does not break links, tokens or signatures already handed out.
"""

from __future__ import annotations

import base64
import hashlib
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


def new_s3_secret() -> str:
    """40 characters, the length and alphabet of an AWS secret access key."""
    return base64.b64encode(secrets.token_bytes(30)).decode()


def access_key_id(secret: str) -> str:
    """``AKIA`` + 16 characters derived from the secret, so the pair is kept (``--state``) as one value.

    One-way: the id is published in every link (``X-Amz-Credential``) and must not reveal the secret.
    """
    digest = hashlib.sha256(b"askara-mock access key id\n" + secret.encode()).digest()
    return "AKIA" + base64.b32encode(digest).decode()[:16]
