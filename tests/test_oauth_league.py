"""The mock's OAuth2 behaves as league/oauth2-server and its Symfony bundle do (askara-api.md 0b).

Each test here fails on a mock that is more lenient than league: an old access token still
accepted after a refresh, short refresh tokens, a ``kid`` or ``iss`` in the JWT, a case-insensitive
``Bearer``, JSON bodies on 401/403, a device request that needs the secret, ``interval`` sent by
default, a spent refresh token that revokes (or not) the wrong things.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from conftest import TEST_SECRET, access_token, ctx_of
from starlette.testclient import TestClient

from mock_server.api.oauth import endpoints
from mock_server.cli import serve as serve_module
from mock_server.core.assumptions import all_assumptions
from mock_server.core.errors import ConfigError
from mock_server.core.settings import Settings

CLIENT_ID = "askara-mock-client"
REDIRECT = "http://127.0.0.1:8000/callback"
QUERY = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "state": "s"}
LEAGUE_OPAQUE = re.compile(r"def50200[0-9a-f]+")
EXPLANATION = "x-askara-mock-explanation"


def code_for(client: TestClient, scope: str = "profile organization") -> str:
    answer = client.post("/authorize", data={**QUERY, "scope": scope, "decision": "approve"}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def pair_for(client: TestClient, scope: str = "profile organization") -> dict[str, Any]:
    body = {
        "grant_type": "authorization_code",
        "code": code_for(client, scope),
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": TEST_SECRET,
    }
    answer = client.post("/oauth2/token", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def refresh(client: TestClient, token: str) -> Any:
    body = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID, "client_secret": TEST_SECRET}
    return client.post("/oauth2/token", json=body)


def me(client: TestClient, authorization: str | None) -> Any:
    return client.get("/me", headers={"Authorization": authorization} if authorization is not None else {})


def last_entry(client: TestClient, path: str) -> dict[str, Any]:
    return [e for e in ctx_of(client).store.journal if e["path"] == path][-1]


def segment(token: str, n: int) -> dict[str, Any]:
    part = token.split(".")[n]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


# -- 1. a refresh revokes the access token issued with the old refresh token ------------------------


def test_a_refresh_revokes_the_old_access_token_at_once(client: TestClient) -> None:
    """A worker that kept the old access token after another worker refreshed gets 401, as in production."""
    first = pair_for(client)
    assert me(client, f"Bearer {first['access_token']}").status_code == 200
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.text
    rotation = last_entry(client, "/oauth2/token")
    old_jti, new_jti = segment(first["access_token"], 1)["jti"], segment(second.json()["access_token"], 1)["jti"]
    assert rotation["refresh_outcome"] == "rotated" and rotation["revoked_access_jti"] == old_jti

    stale = me(client, f"Bearer {first['access_token']}")  # no clock advance: revoked at once
    assert stale.status_code == 401
    assert stale.text == "The resource server rejected the request."
    assert "revoked when its refresh token was used" in stale.headers[EXPLANATION]
    entry = last_entry(client, "/me")
    assert entry["auth_outcome"] == "revoked_by_refresh"
    assert entry["token_jti"] == old_jti and entry["token_replaced_by"] == new_jti
    assert entry["token_revoked_at"] == ctx_of(client).clock.now()
    assert me(client, f"Bearer {second.json()['access_token']}").status_code == 200


# -- 2. league's token shapes ---------------------------------------------------------------------


def test_refresh_tokens_and_codes_have_leagues_shape_and_size(client: TestClient) -> None:
    code = code_for(client)
    tokens = [code, pair_for(client)["refresh_token"], pair_for(client, "profile")["refresh_token"]]
    tokens.append(refresh(client, tokens[1]).json()["refresh_token"])
    for token in tokens:
        assert LEAGUE_OPAQUE.fullmatch(token), token[:40]
        assert 600 <= len(token) <= 1100, len(token)
    assert len(set(tokens)) == len(tokens)
    assert len(tokens[1]) > 255, "a VARCHAR(255) column must not hold one"


def test_access_tokens_carry_leagues_header_and_claims_only(client: TestClient) -> None:
    token = pair_for(client, "profile read:notes")["access_token"]
    assert segment(token, 0) == {"alg": "RS256", "typ": "JWT"}, "no kid: league sets none"
    claims = segment(token, 1)
    assert set(claims) == {"aud", "jti", "iat", "nbf", "exp", "sub", "scopes"}, "no iss"
    assert claims["aud"] == CLIENT_ID and claims["scopes"] == ["profile", "read:notes"]
    assert re.fullmatch(r"[0-9a-f]{80}", claims["jti"])
    now = ctx_of(client).clock.now()
    raw = base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()
    assert f'"iat":{float(now)}' in raw, "lcobucci/jwt writes decimal seconds"
    assert claims["exp"] == pytest.approx(now + 3600)


def test_jwks_endpoint_is_an_assumption_it_relies_on(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    relied: list[str] = []
    monkeypatch.setattr(endpoints, "rely", lambda scope, assumption_id: relied.append(assumption_id))
    answer = client.get("/.well-known/jwks.json")
    assert answer.status_code == 200 and answer.json()["keys"][0]["alg"] == "RS256"
    assert relied == ["jwks-endpoint"]
    assert "jwks-endpoint" in all_assumptions()


def test_a_truncated_refresh_token_is_refused_and_named(client: TestClient) -> None:
    token = pair_for(client)["refresh_token"]
    answer = refresh(client, token[:255])
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid_grant" and body["hint"] == "Cannot decrypt the refresh token"
    assert "first 255 characters" in answer.headers[EXPLANATION]
    entry = last_entry(client, "/oauth2/token")
    assert entry["refresh_outcome"] == "truncated"
    assert entry["refresh_presented_length"] == 255 and entry["refresh_issued_length"] == len(token)
    assert "cut short" in entry["explanation"]
    assert refresh(client, token).status_code == 200, "the whole token was never spent"


# -- 3. the bundle's Bearer check and 401/403 bodies ------------------------------------------------

EMPTY, FAILED = "", "The resource server rejected the request."
BEARER_CASES = [
    # id, Authorization header ({token} is a valid access token), status, body, outcome, challenge part
    ("no-header", None, 401, EMPTY, "missing", 'Bearer realm="askara"'),
    ("lower-case", "bearer {token}", 401, EMPTY, "not_bearer", 'error="invalid_request"'),
    ("upper-case", "BEARER {token}", 401, EMPTY, "not_bearer", 'error="invalid_request"'),
    ("basic", "Basic YTpi", 401, EMPTY, "not_bearer", 'error="invalid_request"'),
    ("token-scheme", "Token {token}", 401, EMPTY, "not_bearer", 'error="invalid_request"'),
    ("no-space", "Bearer{token}", 401, EMPTY, "not_bearer", 'error="invalid_request"'),
    ("nothing-after", "Bearer ", 401, FAILED, "invalid", 'error="invalid_token"'),
    ("garbage", "Bearer not-a-jwt", 401, FAILED, "invalid", 'error="invalid_token"'),
    ("alg-none", "Bearer eyJhbGciOiJub25lIn0.e30.", 401, FAILED, "invalid", 'error="invalid_token"'),
]


@pytest.mark.parametrize(
    ("header", "status", "body", "outcome", "challenge"),
    [case[1:] for case in BEARER_CASES],
    ids=[case[0] for case in BEARER_CASES],
)
@pytest.mark.parametrize("accept", ["application/json", "application/ld+json"])
def test_bearer_refusals_have_the_bundles_form(
    client: TestClient, header: str | None, status: int, body: str, outcome: str, challenge: str, accept: str
) -> None:
    token = pair_for(client)["access_token"]
    headers = {"Accept": accept}
    if header is not None:
        headers["Authorization"] = header.format(token=token)
    answer = client.get("/me", headers=headers)
    assert answer.status_code == status
    assert answer.text == body, "not a problem document an integration could come to rely on"
    assert answer.headers["content-type"].startswith("text/plain")
    assert challenge in answer.headers["www-authenticate"]
    entry = last_entry(client, "/me")
    assert entry["auth_outcome"] == outcome and entry["status"] == status
    assert answer.headers[EXPLANATION] and entry["explanation"] == answer.headers[EXPLANATION]


ENDPOINT_ROWS = [
    # the rows tests/test_bad_input.py had while 401/403 were problem documents, and more
    ("documents-no-token", "GET", "/documents", None, 401, EMPTY, 'Bearer realm="askara"'),
    ("documents-lower-bearer", "GET", "/documents", "bearer", 401, EMPTY, 'error="invalid_request"'),
    ("status-garbage-token", "POST", "/documents/{document}/status", "garbage", 401, FAILED, "invalid_token"),
    ("webhooks-wrong-scope", "GET", "/webhooks", "read:documents", 403, "The token has insufficient scopes.",
     'scope="organization"'),
    ("notes-wrong-scope", "GET", "/notes", "read:documents", 403, "The token has insufficient scopes.",
     'scope="read:notes"'),
    ("patients-no-token", "GET", "/patients", None, 401, EMPTY, 'Bearer realm="askara"'),
]


@pytest.mark.parametrize(
    ("method", "path", "scope", "status", "body", "challenge"),
    [row[1:] for row in ENDPOINT_ROWS],
    ids=[row[0] for row in ENDPOINT_ROWS],
)
def test_public_endpoints_refuse_in_the_bundles_form(
    client: TestClient, method: str, path: str, scope: str | None, status: int, body: str, challenge: str
) -> None:
    headers: dict[str, str] = {}
    if scope == "bearer":
        headers["Authorization"] = f"bearer {access_token(client)}"
    elif scope == "garbage":
        headers["Authorization"] = "Bearer garbage"
    elif scope is not None:
        headers["Authorization"] = f"Bearer {access_token(client, scope)}"
    document = next(d["uuid"] for d in ctx_of(client).store.documents)
    answer = client.request(method, path.replace("{document}", document), headers=headers, json={"success": True})
    assert answer.status_code == status
    assert answer.text == body
    assert challenge in answer.headers["www-authenticate"]
    assert answer.headers[EXPLANATION]
    assert last_entry(client, answer.request.url.path)["explanation"] == answer.headers[EXPLANATION]


def test_exactly_bearer_space_works_and_extra_spaces_are_trimmed(client: TestClient) -> None:
    token = pair_for(client)["access_token"]
    assert me(client, f"Bearer {token}").status_code == 200
    assert me(client, f"Bearer   {token}").status_code == 200, "league trims what follows 'Bearer '"


def test_expired_and_forbidden_bodies(client: TestClient) -> None:
    token = pair_for(client, "read:documents")["access_token"]
    forbidden = me(client, f"Bearer {token}")
    assert forbidden.status_code == 403 and forbidden.text == "The token has insufficient scopes."
    assert 'scope="profile"' in forbidden.headers["www-authenticate"]
    assert 'lacks the scope "profile"' in forbidden.headers[EXPLANATION]
    assert last_entry(client, "/me")["auth_outcome"] == "insufficient_scope"
    ctx_of(client).clock.advance(3600)
    expired = me(client, f"Bearer {token}")
    assert expired.status_code == 401 and expired.text == FAILED
    assert "expired" in expired.headers[EXPLANATION]
    assert last_entry(client, "/me")["auth_outcome"] == "expired"


def test_an_injected_401_has_the_bundles_form_too(client: TestClient) -> None:
    client.post("/_mock/faults", json={"kind": "route", "path": "/me", "status": 401})
    answer = me(client, None)
    assert answer.status_code == 401 and answer.text == FAILED
    assert "Injected fault" in answer.headers[EXPLANATION]


# -- 4. the device authorization request ----------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "wrong"], ids=["no-secret", "wrong-secret"])
def test_device_authorization_needs_only_the_client_id(client: TestClient, secret: str | None) -> None:
    body = {"client_id": CLIENT_ID, "scope": "profile", **({"client_secret": secret} if secret else {})}
    answer = client.post("/oauth2/device", data=body)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert set(got) == {"device_code", "user_code", "verification_uri", "expires_in"}, "no interval by default"
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{8}", got["user_code"])
    assert re.fullmatch(r"[0-9a-f]{80}", got["device_code"])
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": got["device_code"]}
    refused = client.post("/oauth2/token", data={**poll, "client_id": CLIENT_ID})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client", "polls authenticate"


def test_device_authorization_names_a_known_client(client: TestClient) -> None:
    assert client.post("/oauth2/device", data={"client_id": "other", "scope": "profile"}).status_code == 401
    basic = {"Authorization": "Basic " + base64.b64encode(f"{CLIENT_ID}:".encode()).decode()}
    assert client.post("/oauth2/device", data={"scope": "profile"}, headers=basic).status_code == 200


def test_device_interval_and_complete_uri_are_settings(app_client: Any) -> None:
    client = app_client(device_interval=True, device_verification_uri_complete=True)
    got = client.post("/oauth2/device", data={"client_id": CLIENT_ID, "scope": "profile"}).json()
    assert got["interval"] == 5
    assert got["verification_uri_complete"] == f"{got['verification_uri']}?user_code={got['user_code']}"


# -- 5. a spent refresh token presented again ------------------------------------------------------


def test_reuse_revokes_the_family_by_default_and_says_so(client: TestClient) -> None:
    first = pair_for(client)
    newer = refresh(client, first["refresh_token"]).json()
    reused = refresh(client, first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    entry = last_entry(client, "/oauth2/token")
    assert entry["refresh_outcome"] == "reused_spent_token"
    assert entry["refresh_reuse"] == "family_revoked" and entry["revoked_tokens"] == 3
    assert "theft" in entry["explanation"]
    assert me(client, f"Bearer {newer['access_token']}").status_code == 401
    assert refresh(client, newer["refresh_token"]).status_code == 400


def test_reuse_with_leagues_plain_invalid_grant_revokes_nothing_else(app_client: Any) -> None:
    client = app_client(refresh_reuse="invalid-grant")
    first = pair_for(client)
    newer = refresh(client, first["refresh_token"]).json()
    reused = refresh(client, first["refresh_token"])
    assert reused.status_code == 400
    body = reused.json()
    assert body == {
        "error": "invalid_grant",
        "error_description": "The refresh token is invalid.",
        "hint": "Token has been revoked",
        "message": "The refresh token is invalid.",
    }
    entry = last_entry(client, "/oauth2/token")
    assert entry["refresh_outcome"] == "reused_spent_token"
    assert entry["refresh_reuse"] == "refused" and entry["revoked_tokens"] == 0
    assert me(client, f"Bearer {newer['access_token']}").status_code == 200
    assert refresh(client, newer["refresh_token"]).status_code == 200


def test_refresh_reuse_setting_is_checked() -> None:
    with pytest.raises(ConfigError, match="refresh_reuse"):
        Settings(refresh_reuse="ignore")


def test_serve_options_reach_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Settings] = []

    class Stop(Exception):
        pass

    def fake_create_app(settings: Settings) -> None:
        seen.append(settings)
        raise Stop

    monkeypatch.setattr(serve_module, "create_app", fake_create_app)
    args = ["--port", "0", "--device-interval", "--device-verification-uri-complete", "--refresh-reuse",
            "invalid-grant"]
    result = CliRunner().invoke(serve_module.serve, args)
    assert isinstance(result.exception, Stop), result.output
    assert seen[0].device_interval and seen[0].device_verification_uri_complete
    assert seen[0].refresh_reuse == "invalid-grant"
    CliRunner().invoke(serve_module.serve, ["--port", "0"])
    assert not seen[1].device_interval and not seen[1].device_verification_uri_complete
    assert seen[1].refresh_reuse == "revoke-family"
