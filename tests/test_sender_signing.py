"""Standard Webhooks signatures, proven with the ``standardwebhooks`` package, and the forgeries."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mock_server.faults.delivery import arm
from mock_server.sender.signing import STALE_SECONDS, secret_key, signature
from mock_server.testing.receiver import ReceivedRequest, ScriptedReceiver
from mock_server.testing.sender import add_webhook, build_context, emit_note, running_sender, sender_settings

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
FAR_PAST = 1_000_000_000.0  # a manual clock in 2001: signatures must still use real time


def run(scenario):  # type: ignore[no-untyped-def]
    asyncio.run(asyncio.wait_for(scenario(), timeout=60))


def verify(secret: str, request: ReceivedRequest) -> object:
    return Webhook(secret).verify(request.body, request.headers)


def test_signed_deliveries_verify_and_keep_their_id_across_retries() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender(webhook_secret=SECRET, clock_start=FAR_PAST) as ctx:
            add_webhook(ctx, rx.url("/hook"))
            rx.script.extend(["status/500", "ok"])
            emit_note(ctx)
            await ctx.timers.settle()
            ctx.clock.advance(5)
            await ctx.timers.settle()
            assert len(rx.requests) == 2
            delivery = ctx.store.deliveries.values()[0]
            for request in rx.requests:
                assert verify(SECRET, request)["meta"]  # type: ignore[index]
                assert request.headers["webhook-id"] == delivery["id"]
                assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
            assert delivery["attempts"][0]["request_headers"]["webhook-signature"].startswith("v1,")

    run(scenario)


def test_ensure_webhook_secret_generates_a_standard_secret_once_and_turns_signing_on() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            assert ctx.webhook_secret is None
            secret = ctx.ensure_webhook_secret()
            assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
            assert ctx.ensure_webhook_secret() == secret == ctx.webhook_secret
            add_webhook(ctx, rx.url("/hook"))
            emit_note(ctx)
            await ctx.timers.settle()
            assert verify(secret, rx.requests[0])

    run(scenario)


def test_a_generated_secret_survives_a_restart_with_state(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = sender_settings(state_path=str(tmp_path / "state.db"))
    first = build_context(settings)
    secret = first.ensure_webhook_secret()
    first.store.close()
    second = build_context(settings)
    assert second.webhook_secret == secret
    second.store.close()


@pytest.mark.parametrize("mode", ["wrong_secret", "tampered_body", "stale_timestamp"])
def test_forged_signatures_are_rejected_by_a_correct_receiver(mode: str) -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender(webhook_secret=SECRET, clock_start=FAR_PAST) as ctx:
            add_webhook(ctx, rx.url("/hook"))
            arm(ctx, "forged_signature", mode=mode)
            emit_note(ctx)
            emit_note(ctx)  # count=1: the second event is signed correctly
            await ctx.timers.settle()
            forged, genuine = sorted(rx.requests, key=lambda r: r.headers["webhook-id"] != forged_id(ctx))
            with pytest.raises(WebhookVerificationError):
                verify(SECRET, forged)
            assert verify(SECRET, genuine)
            delivery = next(d for d in ctx.store.deliveries if d["fault"] == "forged_signature")
            assert delivery["fault_params"]["forged_signature"]["mode"] == mode
            headers = forged.headers
            if mode == "tampered_body":
                assert forged.body != delivery["body"].encode()
                assert delivery["attempts"][0]["request_body"] == forged.body.decode()
                expected = signature(secret_key(SECRET), headers["webhook-id"], int(headers["webhook-timestamp"]),
                                     delivery["body"].encode())
                assert headers["webhook-signature"] == expected  # the genuine body was signed
            if mode == "stale_timestamp":
                assert time.time() - int(headers["webhook-timestamp"]) >= STALE_SECONDS - 5
                expected = signature(secret_key(SECRET), headers["webhook-id"], int(headers["webhook-timestamp"]),
                                     forged.body)
                assert headers["webhook-signature"] == expected  # correctly signed, only too old

    run(scenario)


def forged_id(ctx) -> str:  # type: ignore[no-untyped-def]
    return next(d["id"] for d in ctx.store.deliveries if d["fault"] == "forged_signature")


def test_rotated_signatures_are_accepted_by_a_correct_receiver() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender(webhook_secret=SECRET) as ctx:
            add_webhook(ctx, rx.url("/hook"))
            arm(ctx, "forged_signature", mode="rotated")
            emit_note(ctx)
            await ctx.timers.settle()
            request = rx.requests[0]
            assert len(request.headers["webhook-signature"].split(" ")) == 2
            assert verify(SECRET, request)

    run(scenario)


def test_arming_a_forgery_without_a_secret_turns_signing_on() -> None:
    async def scenario() -> None:
        async with ScriptedReceiver() as rx, running_sender() as ctx:
            add_webhook(ctx, rx.url("/hook"))
            arm(ctx, "forged_signature", mode="wrong_secret")
            assert ctx.webhook_secret is not None
            emit_note(ctx)
            await ctx.timers.settle()
            with pytest.raises(WebhookVerificationError):
                verify(ctx.webhook_secret, rx.requests[0])

    run(scenario)


def test_generate_makes_a_fresh_secret_shown_by_credentials(app_client) -> None:
    client = app_client(webhook_secret="generate")
    secret = client.get("/_mock/credentials").json()["webhook_secret"]
    assert secret.startswith("whsec_") and len(secret) > 20
    other = app_client(webhook_secret="generate").get("/_mock/credentials").json()["webhook_secret"]
    assert other != secret
    assert app_client().get("/_mock/credentials").json()["webhook_secret"] is None
