"""The OAuth flows over real HTTP: authorization code, refresh rotation and reuse, expiry, JWKS, Authlib."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from conftest import TEST_SECRET
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mock_server.api.oauth.guard import authenticate
from mock_server.serving import RunningMock

CLIENT_ID = "askara-mock-client"
REDIRECT = "http://127.0.0.1:8000/callback"


async def _guarded(request: Request) -> JSONResponse:
    info = authenticate(request, request.path_params["scope"])
    return JSONResponse({"sub": info.user_id, "scopes": sorted(info.scopes)})


def start(live_mock: Callable[..., RunningMock], **overrides: Any) -> RunningMock:
    """A served mock with a clinician and a test route guarded by any scope."""
    running = live_mock(**overrides)
    ctx = running.context
    if not ctx.store.users.values():
        ctx.store.users.put("u-1", {"uuid": "u-1", "email": "dr@example.fr", "firstName": "Ada", "lastName": "Dr"})
    running.app.router.routes.append(Route("/_test/guarded/{scope}", _guarded))
    return running


def clinician(running: RunningMock) -> str:
    return str(running.context.store.users.values()[0]["uuid"])


def authorize(http: httpx.Client, scope: str = "profile organization", state: str = "st-42") -> str:
    query = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": scope, "state": state}
    answer = http.get("/authorize", params=query)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    got = parse_qs(location.query)
    assert got["state"] == [state]
    return got["code"][0]


def exchange(http: httpx.Client, code: str, *, form: bool = False) -> httpx.Response:
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": TEST_SECRET,
    }
    return http.post("/oauth2/token", data=body) if form else http.post("/oauth2/token", json=body)


def refresh(http: httpx.Client, token: str, scope: str | None = None) -> httpx.Response:
    body = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID, "client_secret": TEST_SECRET}
    if scope is not None:
        body["scope"] = scope
    return http.post("/oauth2/token", json=body)


def call(http: httpx.Client, access: str, scope: str = "profile") -> httpx.Response:
    return http.get(f"/_test/guarded/{scope}", headers={"Authorization": f"Bearer {access}"})


def pair(http: httpx.Client, scope: str = "profile organization") -> dict[str, Any]:
    answer = exchange(http, authorize(http, scope))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_authorization_code_flow(live_mock: Callable[..., RunningMock], form: bool) -> None:
    running = start(live_mock, auto_approve=True)
    with httpx.Client(base_url=running.url) as http:
        answer = exchange(http, authorize(http), form=form)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        body = answer.json()
        assert set(body) == {"token_type", "expires_in", "access_token", "refresh_token"}
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert body["refresh_token"].startswith("def50200")
        used = call(http, body["access_token"])
        assert used.status_code == 200 and used.json()["sub"] == clinician(running)
    running.call(running.context.timers.settle)  # sync with its loop: an answer is journaled just after it is sent
    notes = [e for e in running.context.store.journal if e["path"] == "/oauth2/token"]
    assert notes[-1]["grant_type"] == "authorization_code" and notes[-1]["client_id"] == CLIENT_ID


def test_token_exchange_with_http_basic(live_mock: Callable[..., RunningMock]) -> None:
    running = start(live_mock, auto_approve=True)
    with httpx.Client(base_url=running.url) as http:
        code = authorize(http)
        answer = http.post(
            "/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            auth=(CLIENT_ID, TEST_SECRET),
        )
        assert answer.status_code == 200, answer.text


def test_refresh_rotates_and_reuse_revokes_the_family(live_mock: Callable[..., RunningMock]) -> None:
    running = start(live_mock, auto_approve=True)
    with httpx.Client(base_url=running.url) as http:
        first = pair(http)
        second = refresh(http, first["refresh_token"])
        assert second.status_code == 200, second.text
        newer = second.json()
        assert newer["refresh_token"] != first["refresh_token"]
        assert newer["access_token"] != first["access_token"]
        assert call(http, newer["access_token"]).status_code == 200
        assert call(http, first["access_token"]).status_code == 401, "a refresh revokes the old access token"

        reused = refresh(http, first["refresh_token"])
        assert reused.status_code == 400
        assert reused.json()["error"] == "invalid_grant"
        revoked = call(http, newer["access_token"])
        assert revoked.status_code == 401
        assert 'error="invalid_token"' in revoked.headers["www-authenticate"]
        assert refresh(http, newer["refresh_token"]).json()["error"] == "invalid_grant"
    running.call(running.context.timers.settle)  # sync with its loop: an answer is journaled just after it is sent
    refreshes = [e for e in running.context.store.journal if e.get("grant_type") == "refresh_token"]
    outcomes = [e["refresh_outcome"] for e in refreshes]
    assert outcomes == ["rotated", "reused_spent_token", "revoked"]
    assert len({e["refresh_family"] for e in refreshes}) == 1
    assert all(isinstance(e["refresh_token_issued_at"], float) for e in refreshes)


def test_refresh_may_narrow_the_scope_but_never_widen_it(live_mock: Callable[..., RunningMock]) -> None:
    running = start(live_mock, auto_approve=True)
    with httpx.Client(base_url=running.url) as http:
        first = pair(http, "profile organization")
        narrow = refresh(http, first["refresh_token"], scope="profile")
        assert narrow.status_code == 200, narrow.text
        access = narrow.json()["access_token"]
        assert call(http, access, "profile").json()["scopes"] == ["profile"]
        missing = call(http, access, "organization")
        assert missing.status_code == 403
        assert 'error="insufficient_scope"' in missing.headers["www-authenticate"]
        assert 'scope="organization"' in missing.headers["www-authenticate"]
        wider = refresh(http, narrow.json()["refresh_token"], scope="profile organization")
        assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"


def test_access_token_expires_after_one_hour_of_mock_time(live_mock: Callable[..., RunningMock]) -> None:
    running = start(live_mock, auto_approve=True)
    with httpx.Client(base_url=running.url) as http:
        access = pair(http)["access_token"]
        running.context.clock.advance(3599)
        assert call(http, access).status_code == 200
        running.context.clock.advance(1)
        expired = call(http, access)
        assert expired.status_code == 401
        assert 'error="invalid_token"' in expired.headers["www-authenticate"]
        assert expired.text == "The resource server rejected the request."
        assert "expired" in expired.headers["x-askara-mock-explanation"]


def test_consent_page_then_approve_or_deny(live_mock: Callable[..., RunningMock]) -> None:
    running = start(live_mock)
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "profile read:notes",
        "state": "s<1>",
    }
    with httpx.Client(base_url=running.url) as http:
        page = http.get("/authorize", params=query)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "read:notes" in page.text and 'action="/authorize"' in page.text
        assert "s&lt;1&gt;" in page.text and "s<1>" not in page.text
        approved = http.post("/authorize", data={**query, "decision": "approve"})
        assert approved.status_code == 302
        got = parse_qs(urlsplit(approved.headers["location"]).query)
        assert got["state"] == ["s<1>"]
        assert exchange(http, got["code"][0]).status_code == 200
        denied = http.post("/authorize", data={**query, "decision": "deny"})
        assert denied.status_code == 302
        assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]


def test_access_token_verifies_with_the_published_jwks(live_mock: Callable[..., RunningMock]) -> None:
    running = start(live_mock, auto_approve=True)
    with httpx.Client(base_url=running.url) as http:
        access = pair(http, "profile read:documents")["access_token"]
        keys = jwt.PyJWKSet.from_dict(http.get("/.well-known/jwks.json").json())
    header = jwt.get_unverified_header(access)
    assert header == {"alg": "RS256", "typ": "JWT"}, "league's tokens carry no kid"
    assert len(keys.keys) == 1 and keys.keys[0].key_id, "the kid lives only in the mock's own JWKS"
    key = keys.keys[0]
    now = running.context.clock.now()
    claims = jwt.decode(
        access, key.key, algorithms=["RS256"], audience=CLIENT_ID, options={"verify_exp": False, "verify_iat": False}
    )
    assert claims["sub"] == clinician(running)
    assert claims["scopes"] == ["profile", "read:documents"]
    assert claims["exp"] == pytest.approx(now + 3600)
    assert "iss" not in claims


def test_authlib_code_flow_refresh_rotation_and_the_old_token_refused(live_mock: Callable[..., RunningMock]) -> None:
    """A real OAuth2 client library against the mock: code flow, refresh with rotation, league's revocation."""
    running = start(live_mock, auto_approve=True)
    base = running.url
    refreshed: list[dict[str, Any]] = []
    with OAuth2Client(
        CLIENT_ID,
        TEST_SECRET,
        scope="profile organization",
        redirect_uri=REDIRECT,
        token_endpoint=f"{base}/oauth2/token",
        update_token=lambda token, refresh_token=None, access_token=None: refreshed.append(dict(token)),
    ) as oauth, httpx.Client(base_url=base) as http:
        uri, state = oauth.create_authorization_url(f"{base}/authorize")
        callback = http.get(uri).headers["location"]
        first = dict(oauth.fetch_token(f"{base}/oauth2/token", authorization_response=callback, state=state))
        assert first["token_type"] == "Bearer" and first["refresh_token"].startswith("def50200")
        assert oauth.get(f"{base}/_test/guarded/profile").json()["sub"] == clinician(running)

        second = dict(oauth.refresh_token(f"{base}/oauth2/token"))
        assert second["refresh_token"] != first["refresh_token"], "rotation"
        assert [t["access_token"] for t in refreshed] == [second["access_token"]]
        assert call(http, first["access_token"]).status_code == 401, "the old access token is revoked at once"
        assert oauth.get(f"{base}/_test/guarded/profile").status_code == 200, "Authlib uses the new one"
        assert refresh(http, first["refresh_token"]).json()["error"] == "invalid_grant", "single-use"

    with httpx.Client(base_url=base) as http, OAuth2Client(
        CLIENT_ID, TEST_SECRET, token_endpoint=f"{base}/oauth2/token", update_token=lambda token, **_: None
    ) as oauth:
        oauth.token = {**pair(http), "expires_at": 1}  # expired for Authlib: it refreshes before the call
        old = oauth.token["access_token"]
        assert oauth.get(f"{base}/_test/guarded/profile").status_code == 200
        assert oauth.token["access_token"] != old
        assert call(http, old).status_code == 401
    refreshes = [e for e in running.context.store.journal if e.get("grant_type") == "refresh_token"]
    assert [e["refresh_outcome"] for e in refreshes] == ["rotated", "reused_spent_token", "rotated"]
