"""TLS on 127.0.0.1 with certificates the test (or the mock) issues: the sender delivering to an https
receiver it trusts through ``webhook_ca``, and ``serve --tls`` serving both origins over HTTPS."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mock_server.core.tls import CA_FILE, issue
from mock_server.serving import RunningMock
from mock_server.testing.receiver import ScriptedReceiver
from mock_server.testing.sender import add_webhook, emit_note, running_sender

pytestmark = pytest.mark.e2e


def receiver_context(directory: Path) -> ssl.SSLContext:
    files = issue(directory, ["127.0.0.1"])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    return context


def deliver_once(tls: ssl.SSLContext, **settings: object) -> dict:
    """One note delivered to an https receiver; the delivery record."""

    async def scenario() -> dict:
        async with ScriptedReceiver(tls=tls) as rx, running_sender(**settings) as ctx:
            add_webhook(ctx, rx.url("/hook"), ["new_note"])
            emit_note(ctx)
            await ctx.timers.settle()
            assert rx.url().startswith("https://")
            return dict(ctx.store.deliveries.values()[0])

    return asyncio.run(asyncio.wait_for(scenario(), timeout=30))


def test_the_sender_delivers_to_an_https_receiver_signed_by_webhook_ca(tmp_path: Path) -> None:
    tls = receiver_context(tmp_path)
    delivery = deliver_once(tls, webhook_ca=str(tmp_path / CA_FILE))
    assert delivery["state"] == "delivered"
    assert delivery["attempts"][0]["status"] == 200


def test_without_webhook_ca_a_self_signed_receiver_is_refused(tmp_path: Path) -> None:
    delivery = deliver_once(receiver_context(tmp_path), retry_delays=())
    attempt = delivery["attempts"][0]
    assert delivery["state"] == "failed"
    assert attempt["failure"] == "refused"
    assert "CERTIFICATE_VERIFY_FAILED" in attempt["error"]


def access_token_over_http(client: httpx.Client, url: str) -> str:
    creds = client.get(f"{url}/_mock/credentials").json()
    body = {"grant_type": "refresh_token", "refresh_token": creds["refresh_token"], "client_id": creds["client_id"],
            "client_secret": creds["client_secret"]}
    return str(client.post(f"{url}/oauth2/token", json=body).json()["access_token"])


def test_serve_tls_serves_api_and_files_over_https_with_its_ca(live_mock: Callable[..., RunningMock]) -> None:
    mock = live_mock(tls=True)
    assert mock.ca_file and Path(mock.ca_file).exists()
    assert mock.url.startswith("https://") and mock.settings.base_url.startswith("https://")
    with httpx.Client(verify=ssl.create_default_context(cafile=mock.ca_file), timeout=10) as client:
        assert client.get(f"{mock.url}/openapi.json").status_code == 200
        token = access_token_over_http(client, mock.url)
        documents = client.get(f"{mock.url}/documents", headers={"Authorization": f"Bearer {token}"}).json()
        link = documents[0]["pdf"]["url"]
        assert link.startswith(f"https://127.0.0.1:{mock.settings.files_port}/")
        answer = client.get(link)
        assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    with httpx.Client(timeout=10) as untrusting, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY"):
        untrusting.get(f"{mock.url}/openapi.json")


def test_tls_dir_keeps_the_ca_across_starts(live_mock: Callable[..., RunningMock], tmp_path: Path) -> None:
    first = live_mock(tls=True, tls_dir=str(tmp_path))
    ca = Path(first.ca_file or "").read_bytes()
    second = live_mock(tls=True, tls_dir=str(tmp_path))
    assert Path(second.ca_file or "").read_bytes() == ca
    with httpx.Client(verify=ssl.create_default_context(cafile=second.ca_file), timeout=10) as client:
        assert client.get(f"{second.url}/openapi.json").status_code == 200
