"""One delivery attempt as the sender makes it: headers, signature, timeout, and what is recorded of it."""

from __future__ import annotations

from collections.abc import Callable

from mock_server.core.context import MockContext
from mock_server.core.store import Record
from mock_server.sender._transports.base import DestinationLimiter, Transport, attempt
from mock_server.sender.signing import sign

USER_AGENT = "Askara-Webhooks/1.0 (askara-mock)"


async def send_attempt(
    ctx: MockContext,
    transport: Transport,
    limiter: DestinationLimiter,
    wall: Callable[[], float],
    record: Record,
    webhook: Record,
    *,
    forge: bool = True,
) -> Record:
    """One HTTP attempt; returns the attempt fields that describe the request and answer."""
    body = record["body"].encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    mode = (record.get("fault_params") or {}).get("forged_signature", {}).get("mode") if forge else None
    sent = body
    secret = ctx.webhook_secret
    if secret:
        signed, sent = sign(secret, record["id"], int(wall()), body, forge=mode)
        headers.update(signed)
    at, wall_at = ctx.clock.now(), wall()
    timeout = ctx.settings.webhook_timeout
    if ctx.settings.webhook_timeout_follows_clock and ctx.clock.mode == "scaled":
        timeout *= ctx.clock.scale
    outcome = await attempt(
        transport,
        str(webhook.get("url")),
        sent,
        headers,
        timeout=timeout,
        keep_bytes=ctx.settings.recorded_body_bytes,
        max_bytes=max(ctx.settings.max_body_bytes, 1),
        limiter=limiter,
    )
    fields: Record = {
        "at": at,
        "wall": wall_at,
        "url": webhook.get("url"),
        "request_headers": headers,
        "status": outcome.status,
        "response_body": outcome.body.decode("utf-8", errors="replace"),
        "latency_ms": outcome.latency_ms,
        "failure": outcome.failure,
        "error": outcome.error,
        "_outcome": outcome,
    }
    if sent != body:
        fields["request_body"] = sent.decode("utf-8", errors="replace")
    return fields
