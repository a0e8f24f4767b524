"""The device authorization grant (RFC 8628): start, poll, slow down, approve, deny, expire."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conftest import TEST_SECRET, ctx_of
from starlette.testclient import TestClient

from mock_server.api.oauth.device import approve_device_code, normalize_user_code
from mock_server.core.errors import Conflict, NotFound
from mock_server.serving import RunningMock

CLIENT_ID = "askara-mock-client"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CREDENTIALS = {"client_id": CLIENT_ID, "client_secret": TEST_SECRET}


def start(
    client: TestClient | httpx.Client, scope: str = "read:documents write:document_integrations"
) -> dict[str, Any]:
    answer = client.post("/oauth2/device", data={**CREDENTIALS, "scope": scope})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return dict(answer.json())


def poll(client: TestClient | httpx.Client, device_code: str) -> Any:
    return client.post("/oauth2/token", json={**CREDENTIALS, "grant_type": GRANT, "device_code": device_code})


def error_of(answer: Any) -> str:
    assert answer.status_code == 400, answer.text
    return str(answer.json()["error"])


def test_device_authorization_response(client: TestClient) -> None:
    body = start(client)
    assert set(body) == {"device_code", "user_code", "verification_uri", "expires_in"}, "league's defaults"
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{8}", body["user_code"])
    base = ctx_of(client).settings.base_url
    assert body["verification_uri"] == f"{base}/device"
    assert body["expires_in"] == 900


def test_poll_pending_slow_down_then_tokens(client: TestClient) -> None:
    ctx = ctx_of(client)
    body = start(client)
    assert error_of(poll(client, body["device_code"])) == "authorization_pending"
    ctx.clock.advance(4)
    assert error_of(poll(client, body["device_code"])) == "slow_down"
    ctx.clock.advance(9)
    assert error_of(poll(client, body["device_code"])) == "slow_down", "the interval is now 10 s, then 15 s"
    ctx.clock.advance(15)
    assert error_of(poll(client, body["device_code"])) == "authorization_pending"
    approve_device_code(ctx, body["user_code"].lower().replace("-", " "))
    ctx.clock.advance(15)
    tokens = poll(client, body["device_code"])
    assert tokens.status_code == 200, tokens.text
    assert set(tokens.json()) == {"token_type", "expires_in", "access_token", "refresh_token"}
    info = ctx.tokens.verify_access(tokens.json()["access_token"])
    assert info.scopes == {"read:documents", "write:document_integrations"}
    assert info.user_id == ctx.store.users.values()[0]["uuid"]
    assert error_of(poll(client, body["device_code"])) == "invalid_grant", "a device code is single-use"
    outcomes = [e["device_outcome"] for e in ctx.store.journal if e.get("grant_type") == GRANT]
    assert outcomes == ["pending", "slow_down", "slow_down", "pending", "exchanged", "reused"]


def test_device_code_expires(client: TestClient) -> None:
    body = start(client)
    ctx_of(client).clock.advance(900)
    assert error_of(poll(client, body["device_code"])) == "expired_token"
    with pytest.raises(Conflict):
        approve_device_code(ctx_of(client), body["user_code"])


def test_approve_unknown_user_code(client: TestClient) -> None:
    with pytest.raises(NotFound):
        approve_device_code(ctx_of(client), "BBBBBBBB")


def test_device_page_approve_and_deny(client: TestClient) -> None:
    approved, denied = start(client), start(client, "read:notes")
    entry = client.get("/device")
    assert entry.status_code == 200 and 'name="user_code"' in entry.text
    confirm = client.get("/device", params={"user_code": approved["user_code"].replace("-", "").lower()})
    assert confirm.status_code == 200
    assert (
        "read:documents" in confirm.text and approved["user_code"] in confirm.text and 'value="approve"' in confirm.text
    )
    done = client.post("/device", data={"user_code": approved["user_code"], "decision": "approve"})
    assert done.status_code == 200 and "Device connected" in done.text
    assert poll(client, approved["device_code"]).status_code == 200

    refused = client.post("/device", data={"user_code": denied["user_code"], "decision": "deny"})
    assert refused.status_code == 200 and "Access denied" in refused.text
    assert error_of(poll(client, denied["device_code"])) == "access_denied"


def test_device_page_unknown_code(client: TestClient) -> None:
    answer = client.get("/device", params={"user_code": "ZZZZ-ZZZZ"})
    assert answer.status_code == 404 and "ZZZZ-ZZZZ" in answer.text


@pytest.mark.parametrize(
    ("body", "error", "status"),
    [
        ({**CREDENTIALS}, "invalid_scope", 400),
        ({**CREDENTIALS, "scope": "profile everything"}, "invalid_scope", 400),
        ({"client_id": "other", "client_secret": TEST_SECRET, "scope": "profile"}, "invalid_client", 401),
        ({"scope": "profile"}, "invalid_request", 400),
    ],
    ids=["no scope", "unknown scope", "unknown client", "no client"],
)
def test_device_authorization_errors(client: TestClient, body: dict[str, str], error: str, status: int) -> None:
    answer = client.post("/oauth2/device", json=body)
    assert answer.status_code == status and answer.json()["error"] == error


def test_unknown_device_code_is_invalid_grant(client: TestClient) -> None:
    assert error_of(poll(client, "nope")) == "invalid_grant"


def test_normalize_user_code() -> None:
    assert normalize_user_code(" wdjb mjht ") == "WDJBMJHT"
    assert normalize_user_code("WDJB-MJHT") == "WDJBMJHT"
    assert normalize_user_code("WDJBMJHT") == "WDJBMJHT"
    assert normalize_user_code("abc") == "ABC"


def test_device_flow_over_http(live_mock: Callable[..., RunningMock]) -> None:
    running = live_mock(device_verification_uri_complete=True)
    store = running.context.store
    if not store.users.values():
        store.users.put("u-1", {"uuid": "u-1", "email": "dr@example.fr"})
    with httpx.Client(base_url=running.url) as http:
        body = start(http, "profile")
        assert body["verification_uri"] == f"{running.url}/device"
        assert error_of(poll(http, body["device_code"])) == "authorization_pending"
        page = http.get(body["verification_uri_complete"])
        assert page.status_code == 200 and body["user_code"] in page.text
        http.post("/device", data={"user_code": body["user_code"], "decision": "approve"})
        running.context.clock.advance(5)
        assert poll(http, body["device_code"]).status_code == 200
