"""Bound beyond loopback, the control API asks for its token; absolute URLs never name 0.0.0.0."""

from __future__ import annotations

import socket

import pytest
from conftest import access_token

from conformance.mockclient import MockClient, MockError
from mock_server.cli.control_client import ControlClient, MockRefused
from mock_server.control.guard import COOKIE

GUARDED = [("GET", "/_mock/credentials"), ("POST", "/_mock/reset"), ("POST", "/_mock/clock/advance"),
           ("GET", "/_mock/faults"), ("GET", "/_mock/ui"), ("GET", "/_mock/deliveries"), ("GET", "/_mock/timeline"),
           ("GET", "/_mock/ui/ui.js")]  # /_mock/stream: tests/test_stream.py (a granted stream never ends)


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_beyond_loopback_control_routes_refuse_without_the_token(app_client, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    client = app_client(host="0.0.0.0")
    token = client.app.state.mock.settings.control_token
    assert token and len(token) >= 16  # generated, for the banner to print
    for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}, {"Authorization": token}):
        answer = client.request(method, path, headers=headers, json={"seconds": 1})
        assert answer.status_code == 401, (path, headers)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "Authorization: Bearer <control token>" in answer.json()["detail"]
        assert answer.headers["www-authenticate"].startswith("Bearer")
    answer = client.request(method, path, headers={"Authorization": f"Bearer {token}"}, json={"seconds": 1})
    assert answer.status_code < 400, answer.text


def test_the_public_api_needs_no_control_token(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(host="0.0.0.0")
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/documents", headers={"Authorization": f"Bearer {access_token(client)}"}).status_code == 200


def test_the_web_page_takes_the_token_once_and_keeps_it_in_a_cookie(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(host="0.0.0.0")
    token = client.app.state.mock.settings.control_token
    assert client.get("/_mock/ui?token=not-it-not-it-not-it", follow_redirects=False).status_code == 401
    answer = client.get(f"/_mock/ui?token={token}", follow_redirects=False)
    assert answer.status_code == 303 and "token" not in answer.headers["location"]
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/_mock/ui").status_code == 200  # the cookie carries it (the client keeps cookies)
    assert client.get("/_mock/clock").status_code == 200


def test_loopback_is_open_unless_a_token_is_given(app_client) -> None:  # type: ignore[no-untyped-def]
    assert app_client().get("/_mock/clock").status_code == 200
    guarded = app_client(control_token="a-token-of-my-choice")
    assert guarded.get("/_mock/clock").status_code == 401
    assert guarded.get("/_mock/clock", headers={"Authorization": "Bearer a-token-of-my-choice"}).status_code == 200


def test_absolute_urls_use_the_public_url_or_the_host_name_never_0_0_0_0(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(host="0.0.0.0")
    settings = client.app.state.mock.settings
    assert settings.base_url == f"http://{socket.gethostname()}:8765"
    headers = {"Authorization": f"Bearer {access_token(client)}"}
    documents = client.get("/documents", headers=headers).json()
    assert all("0.0.0.0" not in d["pdf"]["url"] for d in documents)
    public = app_client(host="0.0.0.0", public_url="https://mock.example", files_public_url="https://files.example")
    documents = public.get("/documents", headers={"Authorization": f"Bearer {access_token(public)}"}).json()
    assert documents[0]["pdf"]["url"].startswith("https://files.example/")


@pytest.mark.e2e
def test_the_cli_client_and_the_harness_client_send_the_token(live_mock, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mock = live_mock(control_token="the-control-token-1234", tls=True, tls_dir=str(tmp_path))
    monkeypatch.setenv("SSL_CERT_FILE", mock.ca_file)  # httpx (the CLI client) honours it
    monkeypatch.delenv("ASKARA_MOCK_CONTROL_TOKEN", raising=False)
    with pytest.raises(MockRefused, match="401"):
        ControlClient(mock.url).get("/_mock/clock")
    assert "now" in ControlClient(mock.url, token="the-control-token-1234").get("/_mock/clock")
    monkeypatch.setenv("ASKARA_MOCK_CONTROL_TOKEN", "the-control-token-1234")
    assert "now" in ControlClient(mock.url).get("/_mock/clock")
    harness = MockClient(mock.url, ca_file=mock.ca_file)
    try:
        assert "now" in harness.clock()
    finally:
        harness.close()
    monkeypatch.delenv("ASKARA_MOCK_CONTROL_TOKEN")
    anonymous = MockClient(mock.url, ca_file=mock.ca_file)
    try:
        with pytest.raises(MockError, match="401"):
            anonymous.clock()
    finally:
        anonymous.close()
