"""``POST /_mock/settle``: one call that waits for the due deliveries (and, with ``advance=true``, every retry)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from conftest import make_settings
from starlette.testclient import TestClient
from test_sender_durability import receiver_thread

from mock_server import create_app
from mock_server.cli import main
from mock_server.serving import free_port, serve_in_thread


def mock(url: str, **overrides: Any) -> TestClient:
    settings = make_settings(webhook_urls=(url,), **overrides)
    return TestClient(create_app(settings), base_url=settings.base_url)


def test_settle_returns_once_the_due_delivery_was_answered() -> None:
    with receiver_thread("slow/0.3") as rx, mock(rx.url("/hook")) as client:
        client.post("/_mock/documents", json={"validate": True})
        answer = client.post("/_mock/settle")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert [(d["state"], d["attempts"], d["last_status"]) for d in body["waited_for"]] == [("delivered", 1, 200)]
        assert body["pending"] == [] and body["advanced"] == 0.0
        assert len(rx.requests) == 1
        again = client.post("/_mock/settle").json()
        assert again["waited_for"] == []  # nothing new was due


def test_without_advance_a_failed_delivery_stays_pending_with_its_next_time() -> None:
    with receiver_thread("status/500") as rx, mock(rx.url("/hook")) as client:
        now = client.get("/_mock/clock").json()["now"]
        client.post("/_mock/documents", json={"validate": True})
        body = client.post("/_mock/settle").json()
        assert [(d["state"], d["attempts"], d["next_attempt_at"]) for d in body["pending"]] == [("pending", 1, now + 5)]
        assert body["clock"]["now"] == now
        assert len(rx.requests) == 1


def test_advance_drives_the_clock_to_each_retry_until_nothing_is_pending() -> None:
    with receiver_thread("status/500") as rx, mock(rx.url("/hook")) as client:
        now = client.get("/_mock/clock").json()["now"]
        client.post("/_mock/documents", json={"validate": True})
        body = client.post("/_mock/settle", params={"advance": "true"}).json()
        assert body["settled"] is True and body["pending"] == []
        assert [(d["state"], d["attempts"]) for d in body["waited_for"]] == [("failed", 4)]
        assert body["advanced"] == 35 and body["clock"]["now"] == now + 35
        assert len(rx.requests) == 4


def test_the_timeout_answers_409_naming_what_is_still_pending() -> None:
    with receiver_thread("hang") as rx, mock(rx.url("/hook"), webhook_timeout=2.0) as client:
        client.post("/_mock/documents", json={"validate": True})
        answer = client.post("/_mock/settle", params={"timeout": "0.2"})
        assert answer.status_code == 409, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        delivery = client.get("/_mock/deliveries").json()["items"][0]
        violations = answer.json()["violations"]
        assert [(v["propertyPath"], v["code"]) for v in violations] == [(f"deliveries.{delivery['id']}", "settled")]
        assert delivery["id"] in answer.json()["detail"]
        assert client.post("/_mock/settle", params={"timeout": "10"}).status_code == 200  # the 2 s answer timeout


@pytest.mark.parametrize("raw", ["0", "-1", "601", "soon", "nan"])
def test_a_bad_timeout_is_refused_naming_it(raw: str) -> None:
    with mock("http://127.0.0.1:9/hook") as client:
        answer = client.post("/_mock/settle", params={"timeout": raw})
    assert answer.status_code == 400
    assert answer.json()["violations"][0]["propertyPath"] == "timeout"


@pytest.mark.e2e
def test_the_settle_command_drives_every_retry_and_reports_what_is_left() -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"
    with serve_in_thread(make_settings(webhook_urls=(dead,))) as running:
        httpx.post(f"{running.url}/_mock/documents", json={"validate": True})
        plain = CliRunner().invoke(main, ["settle", "--mock-url", running.url])
        assert plain.exit_code == 0, plain.output
        assert "Still pending" in plain.output
        advanced = CliRunner().invoke(main, ["settle", "--advance", "--json", "--mock-url", running.url])
        assert advanced.exit_code == 0, advanced.output
        body = json.loads(advanced.output)
        assert [(d["state"], d["attempts"]) for d in body["waited_for"]] == [("failed", 4)]
        assert CliRunner().invoke(main, ["settle", "--timeout", "0", "--mock-url", running.url]).exit_code == 2
