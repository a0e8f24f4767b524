"""Standard Webhooks signatures, and the forged ones a receiver must reject (or accept).

Askara documents no signature scheme ("if implemented"), so deliveries are unsigned unless a
secret is set. With one, every attempt carries ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed with the
base64-decoded part of ``whsec_...``, exactly as https://www.standardwebhooks.com specifies,
computed over the exact bytes sent.

The timestamp is REAL (wall-clock) time, not the mock clock: receivers compare it with their
own clock within +/- 5 minutes, and a manual or scaled mock clock drifts far from it.
"""

from __future__ import annotations

import base64
import functools
import hmac
import secrets

import orjson

from mock_server.core.secrets import WEBHOOK_SECRET_PREFIX as PREFIX

STALE_SECONDS = 6 * 60 + 30


@functools.lru_cache(maxsize=16)
def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; a secret without the prefix is used as raw bytes."""
    if secret.startswith(PREFIX):
        return base64.b64decode(secret[len(PREFIX) :])
    return secret.encode()


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.digest(key, signed, "sha256")).decode()


def sign(
    secret: str, message_id: str, timestamp: int, body: bytes, *, forge: str | None = None
) -> tuple[dict[str, str], bytes]:
    """Signature headers for ``body`` and the body to send (``tampered_body`` sends another).

    ``forge`` picks a forgery: ``wrong_secret`` (signed with a random key), ``tampered_body``
    (the genuine body is signed, a modified one is sent), ``stale_timestamp`` (correctly signed,
    6.5 minutes old), ``rotated`` (an invalid and a valid signature, space-separated: a correct
    receiver accepts it, as after a secret rotation).
    """
    key = secret_key(secret)
    sent = body
    if forge == "stale_timestamp":
        timestamp -= STALE_SECONDS
    value = signature(key, message_id, timestamp, body)
    if forge == "wrong_secret":
        value = signature(secrets.token_bytes(24), message_id, timestamp, body)
    elif forge == "tampered_body":
        sent = tamper(body)
    elif forge == "rotated":
        value = signature(secrets.token_bytes(24), message_id, timestamp, body) + " " + value
    headers = {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": value}
    return headers, sent


def tamper(body: bytes) -> bytes:
    """The body an attacker would send: same envelope, another organization on every event."""
    try:
        envelope = orjson.loads(body)
        for event in envelope.get("events", []):
            event.setdefault("resource_metadata", {})["organization_id"] = "tampered-" + secrets.token_hex(4)
        return orjson.dumps(envelope)
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return body + b" "
