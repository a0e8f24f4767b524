"""Every refused OAuth request gets the RFC 6749 error name, in process; the guard's 401 and 403."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import TEST_SECRET, ctx_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mock_server.api.oauth.guard import authenticate

CLIENT_ID = "askara-mock-client"
REDIRECT = "http://127.0.0.1:8000/callback"
GOOD_QUERY = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": "profile"}


def code_for(client: TestClient, scope: str = "profile organization") -> str:
    answer = client.post(
        "/authorize", data={**GOOD_QUERY, "scope": scope, "state": "s", "decision": "approve"}, follow_redirects=False
    )
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def code_body(code: str, **changes: str | None) -> dict[str, str]:
    body: dict[str, Any] = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": TEST_SECRET,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def refresh_token(client: TestClient) -> str:
    answer = client.post("/oauth2/token", json=code_body(code_for(client)))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["refresh_token"])


def refresh_body(token: str, **changes: str | None) -> dict[str, str]:
    body: dict[str, Any] = {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": CLIENT_ID,
        "client_secret": TEST_SECRET,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def assert_oauth_error(answer: Any, error: str, status: int = 400, mentions: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error, body
    assert body["error_description"] and body["message"] == body["error_description"]
    assert answer.headers["cache-control"] == "no-store"
    if mentions is not None:
        assert mentions in body["error_description"]


# -- token endpoint: one bad request per row ---------------------------------------------------

BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{TEST_SECRET}".encode()).decode()

TOKEN_CASES: list[tuple[str, dict[str, str], str, int, str | None]] = [
    ("no grant_type", {"client_id": CLIENT_ID, "client_secret": TEST_SECRET}, "invalid_request", 400, "grant_type"),
    ("client credentials", {"grant_type": "client_credentials"}, "unsupported_grant_type", 400, "client_credentials"),
    (
        "password grant",
        {"grant_type": "password", "username": "a", "password": "b"},
        "unsupported_grant_type",
        400,
        None,
    ),
    ("implicit-ish", {"grant_type": "token"}, "unsupported_grant_type", 400, None),
    ("no client_id", {"grant_type": "refresh_token", "refresh_token": "x"}, "invalid_request", 400, "client_id"),
    (
        "unknown client",
        {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "other", "client_secret": TEST_SECRET},
        "invalid_client",
        401,
        "other",
    ),
    (
        "wrong secret",
        {"grant_type": "refresh_token", "refresh_token": "x", "client_id": CLIENT_ID, "client_secret": "nope"},
        "invalid_client",
        401,
        None,
    ),
    (
        "no secret",
        {"grant_type": "refresh_token", "refresh_token": "x", "client_id": CLIENT_ID},
        "invalid_client",
        401,
        "client_secret",
    ),
    (
        "no refresh_token",
        {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": TEST_SECRET},
        "invalid_request",
        400,
        "refresh_token",
    ),
    (
        "unknown refresh token",
        {
            "grant_type": "refresh_token",
            "refresh_token": "def502ab",
            "client_id": CLIENT_ID,
            "client_secret": TEST_SECRET,
        },
        "invalid_grant",
        400,
        None,
    ),
    (
        "no code",
        {
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
            "client_id": CLIENT_ID,
            "client_secret": TEST_SECRET,
        },
        "invalid_request",
        400,
        '"code"',
    ),
    (
        "unknown code",
        code_body("def502nothing"),
        "invalid_grant",
        400,
        None,
    ),
    (
        "no device_code",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": CLIENT_ID,
            "client_secret": TEST_SECRET,
        },
        "invalid_request",
        400,
        "device_code",
    ),
]


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
@pytest.mark.parametrize(("name", "body", "error", "status", "mentions"), TOKEN_CASES, ids=[c[0] for c in TOKEN_CASES])
def test_token_endpoint_error_table(
    client: TestClient, as_form: bool, name: str, body: dict[str, str], error: str, status: int, mentions: str | None
) -> None:
    answer = client.post("/oauth2/token", data=body) if as_form else client.post("/oauth2/token", json=body)
    assert_oauth_error(answer, error, status, mentions)
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Basic")


def test_code_is_bound_to_the_redirect_uri(client: TestClient) -> None:
    code = code_for(client)
    assert_oauth_error(client.post("/oauth2/token", json=code_body(code, redirect_uri=None)), "invalid_request", 400)
    wrong = code_body(code, redirect_uri="http://127.0.0.1:8000/other")
    assert_oauth_error(client.post("/oauth2/token", json=wrong), "invalid_grant", mentions="redirect_uri")
    assert client.post("/oauth2/token", json=code_body(code)).status_code == 200


def test_reused_code_is_refused_and_revokes_its_tokens(client: TestClient) -> None:
    code = code_for(client)
    first = client.post("/oauth2/token", json=code_body(code)).json()
    assert_oauth_error(
        client.post("/oauth2/token", json=code_body(code)), "invalid_grant", mentions="already been used"
    )
    assert_oauth_error(client.post("/oauth2/token", json=refresh_body(first["refresh_token"])), "invalid_grant")
    answer = ctx_of(client).tokens.refresh_outcome(first["refresh_token"], CLIENT_ID)
    assert answer[0] == "revoked"


def test_expired_code_is_refused(client: TestClient) -> None:
    code = code_for(client)
    ctx_of(client).clock.advance(600)
    assert_oauth_error(client.post("/oauth2/token", json=code_body(code)), "invalid_grant", mentions="expired")


def test_expired_refresh_token_is_refused(client: TestClient) -> None:
    token = refresh_token(client)
    ctx_of(client).clock.advance(30 * 24 * 3600)
    assert_oauth_error(client.post("/oauth2/token", json=refresh_body(token)), "invalid_grant", mentions="expired")
    journal = [e for e in ctx_of(client).store.journal if e.get("grant_type") == "refresh_token"]
    assert journal[-1]["refresh_outcome"] == "expired"


@pytest.mark.parametrize(
    ("scope", "error"),
    [("profile nonsense", "invalid_scope"), ("read:notes", "invalid_scope")],
    ids=["unknown", "wider"],
)
def test_refresh_scope_errors(client: TestClient, scope: str, error: str) -> None:
    token = refresh_token(client)
    assert_oauth_error(client.post("/oauth2/token", json=refresh_body(token, scope=scope)), error)
    assert client.post("/oauth2/token", json=refresh_body(token)).status_code == 200, "a refused refresh spends nothing"


def test_body_credentials_win_over_basic(client: TestClient) -> None:
    body = refresh_body(refresh_token(client))
    wrong_basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:wrong".encode()).decode()
    assert client.post("/oauth2/token", json=body, headers={"Authorization": wrong_basic}).status_code == 200


@pytest.mark.parametrize(
    "header", ["Basic !!", "Bearer stale-access-token", "Basic " + base64.b64encode(b"x").decode()]
)
def test_a_header_that_is_not_basic_credentials_is_ignored(client: TestClient, header: str) -> None:
    token = refresh_token(client)
    answer = client.post("/oauth2/token", json=refresh_body(token), headers={"Authorization": header})
    assert answer.status_code == 200, answer.text
    missing = client.post("/oauth2/token", data={"grant_type": "refresh_token"}, headers={"Authorization": header})
    assert_oauth_error(missing, "invalid_request", mentions="not valid HTTP Basic")


def test_basic_with_another_client_id_in_the_body_is_invalid_client(client: TestClient) -> None:
    answer = client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": "other"},
        headers={"Authorization": BASIC},
    )
    assert_oauth_error(answer, "invalid_client", 401)


@pytest.mark.parametrize(
    ("content", "content_type", "mentions"),
    [
        (b"grant_type=refresh_token", "text/plain", "content-type"),
        (b"grant_type=refresh_token", None, "(none)"),
        (b'{"grant_type": ', "application/json", "not valid JSON"),
        (b"", "application/json", "empty"),
        (b'["refresh_token"]', "application/json", "JSON object"),
        (b'{"grant_type": 7}', "application/json", "must be a string"),
        (b"grant_type=refresh_token&grant_type=password", "application/x-www-form-urlencoded", "more than once"),
        (b"grant_type=%ff", "application/x-www-form-urlencoded", "UTF-8"),
    ],
)
def test_malformed_bodies_are_invalid_request(
    client: TestClient, content: bytes, content_type: str | None, mentions: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = client.post("/oauth2/token", content=content, headers=headers)
    assert_oauth_error(answer, "invalid_request", mentions=mentions)


def test_oversized_body_is_413(app_client: Any) -> None:
    small = app_client(max_body_bytes=64)
    answer = small.post("/oauth2/token", json={"grant_type": "refresh_token", "refresh_token": "x" * 100})
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_token_endpoint_is_post_only(client: TestClient) -> None:
    assert client.get("/oauth2/token").status_code == 405


@given(
    body=st.dictionaries(
        st.sampled_from(["grant_type", "client_id", "client_secret", "code", "refresh_token", "scope", "redirect_uri"]),
        st.one_of(
            st.text(max_size=20), st.sampled_from(["refresh_token", "authorization_code", CLIENT_ID, TEST_SECRET])
        ),
    ),
    as_form=st.booleans(),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_token_request_causes_a_server_error(client: TestClient, body: dict[str, str], as_form: bool) -> None:
    answer = client.post("/oauth2/token", data=body) if as_form else client.post("/oauth2/token", json=body)
    assert answer.status_code in (400, 401), answer.text
    assert answer.json()["error"]


# -- /authorize ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"client_id": None}, "client_id"),
        ({"client_id": "someone-else"}, "someone-else"),
        ({"redirect_uri": None}, "redirect_uri"),
        ({"redirect_uri": "http://evil.example/cb"}, "not registered"),
        ({"redirect_uri": REDIRECT + "/"}, "not registered"),
    ],
    ids=["no client", "unknown client", "no redirect", "foreign redirect", "near-miss redirect"],
)
def test_authorize_never_redirects_to_an_unverified_uri(
    client: TestClient, changes: dict[str, str | None], mentions: str
) -> None:
    query = {k: v for k, v in {**GOOD_QUERY, **changes}.items() if v is not None}
    answer = client.get("/authorize", params=query, follow_redirects=False)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert answer.headers["content-type"].startswith("text/html")
    assert mentions in answer.text


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "profile admin"}, "invalid_scope"),
        ({"scope": None}, "invalid_scope"),
    ],
    ids=["token response", "no response_type", "unknown scope", "no scope"],
)
def test_authorize_errors_go_back_to_the_client(client: TestClient, changes: dict[str, str | None], error: str) -> None:
    query = {k: v for k, v in {**GOOD_QUERY, "state": "xyz", **changes}.items() if v is not None}
    answer = client.get("/authorize", params=query, follow_redirects=False)
    assert answer.status_code == 302
    got = parse_qs(urlsplit(answer.headers["location"]).query)
    assert got["error"] == [error] and got["state"] == ["xyz"] and "code" not in got


def test_authorize_keeps_the_redirect_uri_query_and_allows_no_state(app_client: Any) -> None:
    redirect = "http://127.0.0.1:9000/cb?tenant=7"
    client = app_client(redirect_uris=(redirect,), auto_approve=True)
    ctx_of(client).store.users.put("u-1", {"uuid": "u-1", "email": "dr@example.fr"})
    answer = client.get("/authorize", params={**GOOD_QUERY, "redirect_uri": redirect}, follow_redirects=False)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    got = parse_qs(location.query)
    assert got["tenant"] == ["7"] and "code" in got and "state" not in got


def test_consent_post_needs_a_decision(client: TestClient) -> None:
    answer = client.post("/authorize", data={**GOOD_QUERY, "decision": "maybe"}, follow_redirects=False)
    assert answer.status_code == 400 and "decision" in answer.text


# -- the guard: 401 and 403 with WWW-Authenticate -------------------------------------------------


async def _guarded(request: Request) -> JSONResponse:
    info = authenticate(request, "profile")
    return JSONResponse({"sub": info.user_id})


@pytest.fixture
def guarded(client: TestClient) -> TestClient:
    client.app.router.routes.append(Route("/_test/guarded", _guarded))  # type: ignore[attr-defined]
    return client


def bearer(client: TestClient, scope: str) -> str:
    code = code_for(client, scope)
    return str(client.post("/oauth2/token", json=code_body(code)).json()["access_token"])


def test_guard_missing_token_is_401_without_error_code(guarded: TestClient) -> None:
    answer = guarded.get("/_test/guarded")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="askara"'


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Bearer eyJhbGciOiJub25lIn0.e30."], ids=["garbage", "alg none"])
def test_guard_bad_token_is_401_invalid_token(guarded: TestClient, header: str) -> None:
    answer = guarded.get("/_test/guarded", headers={"Authorization": header})
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_guard_expired_token_is_401_then_refresh_works(guarded: TestClient) -> None:
    token = bearer(guarded, "profile")
    assert guarded.get("/_test/guarded", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    ctx_of(guarded).clock.advance(3600)
    answer = guarded.get("/_test/guarded", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and "expired" in answer.headers["www-authenticate"]


def test_guard_missing_scope_is_403_insufficient_scope(guarded: TestClient) -> None:
    token = bearer(guarded, "organization")
    answer = guarded.get("/_test/guarded", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    challenge = answer.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="profile"' in challenge


@given(
    query=st.dictionaries(
        st.sampled_from([*GOOD_QUERY, "state", "decision", "user_code"]),
        st.one_of(st.text(max_size=12), st.sampled_from([CLIENT_ID, REDIRECT, "code", "profile", "approve"])),
    ),
    post=st.booleans(),
    path=st.sampled_from(["/authorize", "/device", "/oauth2/device"]),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_browser_or_device_request_causes_a_server_error(
    client: TestClient, query: dict[str, str], post: bool, path: str
) -> None:
    if post or path == "/oauth2/device":
        answer = client.post(path, data=query, follow_redirects=False)
    else:
        answer = client.get(path, params=query, follow_redirects=False)
    assert answer.status_code in (200, 302, 400, 401, 404, 405, 409), answer.text
