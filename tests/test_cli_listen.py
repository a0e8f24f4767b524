"""``serve --webhook-url`` and ``askara-mock listen``, against real mocks and receivers on loopback.

Processes run bounded: every wait is a poll against a deadline (no sleeps to wait for the mock).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

import httpx
import pytest
from click.testing import CliRunner
from conftest import access_token, make_settings
from standardwebhooks.webhooks import Webhook
from starlette.testclient import TestClient

from mock_server import create_app
from mock_server.cli import main
from mock_server.cli.inbox import verify
from mock_server.core.errors import ConfigError
from mock_server.core.vocabulary import EVENT_NAMES
from mock_server.serving import RunningMock, free_port

DEADLINE = 20.0
CLI = [sys.executable, "-c", "from mock_server.cli.main import main; main()"]


# -- helpers: a receiver, processes read line by line ---------------------------------------------


@dataclass
class Receiver:
    """A plain HTTP receiver in a thread: every POST is queued and answered ``status``."""

    status: int = 200
    received: queue.Queue[tuple[str, dict[str, str], bytes]] = field(default_factory=queue.Queue)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def next(self, timeout: float = DEADLINE) -> tuple[str, dict[str, str], bytes]:
        return self.received.get(timeout=timeout)


@contextmanager
def receiving(status: int = 200) -> Iterator[Receiver]:
    receiver = Receiver(status)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.received.put((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(receiver.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server.daemon_threads = True
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


class Process:
    """A CLI subprocess whose stdout and stderr lines arrive on queues (read with deadlines)."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "80"}
        self.popen = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env=env)
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.err_lines: list[str] = []
        self.pumps = [threading.Thread(target=self._pump, args=(stream, lines), daemon=True)
                      for stream, lines in ((self.popen.stdout, self.out), (self.popen.stderr, self.err))]
        for pump in self.pumps:
            pump.start()

    @staticmethod
    def _pump(stream: IO[str] | None, lines: queue.Queue[str]) -> None:
        assert stream is not None
        for line in stream:
            lines.put(line.rstrip("\n"))

    def line(self, *, err: bool = False, timeout: float = DEADLINE) -> str:
        try:
            line = (self.err if err else self.out).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout} s; stderr so far: {self.drain_err()}") from None
        if err:
            self.err_lines.append(line)
        return line

    def json_line(self) -> dict[str, Any]:
        return json.loads(self.line())

    def drain_err(self) -> list[str]:
        while not self.err.empty():
            self.err_lines.append(self.err.get_nowait())
        return self.err_lines

    def interrupt(self) -> int:
        """Ctrl-C, and the exit status (bounded)."""
        self.popen.send_signal(signal.SIGINT)
        return self.popen.wait(timeout=DEADLINE)

    def stop(self) -> None:
        """Kill it if it still runs, then close its pipes once the readers have drained them."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=DEADLINE)
        for pump in self.pumps:
            pump.join(timeout=DEADLINE)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def process(*args: str) -> Iterator[Process]:
    proc = Process(*args)
    try:
        yield proc
    finally:
        proc.stop()


def until(condition: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        threading.Event().wait(0.02)  # a poll interval, not a wait for the mock's timing
    raise AssertionError(f"timed out waiting for {what}")


def trigger(url: str, event: str = "new_document", *extra: str) -> Any:
    result = CliRunner().invoke(main, ["trigger", event, "--mock-url", url, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- serve --webhook-url ----------------------------------------------------------------------------


def test_webhook_url_registers_what_post_webhooks_would_create() -> None:
    settings = make_settings(webhook_urls=("http://127.0.0.1:9/hook",))
    app = create_app(settings)
    ctx = app.state.mock
    [started] = ctx.store.webhooks.values()
    with TestClient(app, base_url=settings.base_url) as api:
        response = api.post("/webhooks", json={"url": "http://127.0.0.1:9/other", "events": list(EVENT_NAMES)},
                            headers={"Authorization": f"Bearer {access_token(api)}"})
        assert response.status_code == 201
        created = ctx.store.webhooks.get(response.json()["uuid"])
        assert sorted(started) == sorted(created)
        assert started["_organization_id"] == created["_organization_id"] == ctx.store.organizations.values()[0]["uuid"]
        assert started["events"] == list(EVENT_NAMES) and started["active"] is True
        listed = api.get("/webhooks", headers={"Authorization": f"Bearer {access_token(api)}"}).json()
        assert {w["url"] for w in listed} == {"http://127.0.0.1:9/hook", "http://127.0.0.1:9/other"}
        api.post("/_mock/reset")
        assert [w["url"] for w in ctx.store.webhooks] == ["http://127.0.0.1:9/hook"]  # registered again


def test_webhook_url_is_checked_as_post_webhooks_checks_it() -> None:
    with pytest.raises(ConfigError, match="--webhook-url 'ftp://x/hook'"):
        create_app(make_settings(webhook_urls=("ftp://x/hook",)))
    with pytest.raises(ConfigError, match="does not match"):
        create_app(make_settings(webhook_urls=("http://127.0.0.1:0/hook",)))
    result = CliRunner().invoke(main, ["serve", "--port", str(free_port()), "--webhook-url", "nope"])
    assert result.exit_code == 2 and "--webhook-url 'nope'" in result.stderr


def test_webhook_url_restored_state_is_not_registered_twice(tmp_path: Any) -> None:
    state = str(tmp_path / "mock.sqlite3")
    for _ in range(2):
        ctx = create_app(make_settings(webhook_urls=("http://127.0.0.1:9/hook",), state_path=state)).state.mock
        assert len(ctx.store.webhooks) == 1
        ctx.store.close()


def test_serve_webhook_url_delivers_a_triggered_event_to_a_real_receiver() -> None:
    port = free_port()
    with receiving() as receiver, process("serve", "--port", str(port), "--json", "--webhook-url",
                                          receiver.url) as serve:
        banner = serve.json_line()
        url = banner["mock_url"]
        assert url == f"http://127.0.0.1:{port}"
        assert [w["url"] for w in banner["webhooks"]] == [receiver.url]
        assert banner["next"][-1].endswith(f"trigger new_document --mock-url {url}")
        until(lambda: _answers(url), "the mock to answer")
        [answer] = trigger(url)
        path, headers, body = receiver.next()
        event = json.loads(body)["events"][0]
        assert path == "/hook" and event["action"] == "new_document" and event["id"] == answer["document"]["uuid"]
        assert headers["user-agent"].startswith("Askara-Webhooks")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/_mock/clock", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


# -- listen ---------------------------------------------------------------------------------------


@pytest.fixture
def running(live_mock: Callable[..., RunningMock]) -> RunningMock:
    return live_mock()


def test_listen_prints_each_delivery_and_removes_its_webhook_on_ctrl_c(running: RunningMock) -> None:
    with process("listen", "--mock-url", running.url, "--json") as listen:
        ready = listen.json_line()
        assert ready["ready"] is True and ready["signatures"] == "unsigned"
        [webhook] = running.context.store.webhooks.values()
        assert webhook["uuid"] == ready["webhook"] and webhook["url"] == ready["url"]
        assert webhook["events"] == list(EVENT_NAMES) and webhook["_organization_id"]  # made by POST /webhooks
        [answer] = trigger(running.url)
        arrival = listen.json_line()
        [delivery] = running.context.store.deliveries.values()
        assert arrival["delivery_id"] == delivery["id"] and arrival["attempt"] == 1 and arrival["status"] == 200
        assert arrival["events"] == [{"action": "new_document", "resource_type": "document",
                                      "id": answer["document"]["uuid"]}]
        assert arrival["signature"] == "unsigned"
        assert listen.interrupt() == 0
        assert "Removed webhook" in " ".join(listen.drain_err())
    assert running.context.store.webhooks.values() == []


def test_listen_plain_lines_and_retries_counted(running: RunningMock) -> None:
    """``--status 500``: the mock retries 5 s (mock time) later; the listener says attempt 1, then 2."""
    with process("listen", "--mock-url", running.url, "--status", "500", "--events", "new_note") as listen:
        assert "Ready." in listen.line(err=True)
        [webhook] = running.context.store.webhooks.values()
        assert webhook["events"] == ["new_note"]
        [answer] = trigger(running.url, "new_note")
        first = listen.line()
        note = answer["note"]["uuid"]
        [delivery] = running.context.store.deliveries.values()
        assert first.split("  ")[1:] == [delivery["id"], "attempt 1", f"new_note note {note}", "unsigned", "<- 500"]
        result = CliRunner().invoke(main, ["clock", "advance", "5", "--mock-url", running.url])
        assert result.exit_code == 0
        assert f"{delivery['id']}  attempt 2  new_note note {note}  unsigned  <- 500" in listen.line()
        datetime.strptime(first[:19], "%Y-%m-%d %H:%M:%S")  # local time first


def test_listen_verifies_signatures_when_the_mock_signs(live_mock: Callable[..., RunningMock]) -> None:
    running = live_mock(webhook_secret="generate")
    with process("listen", "--mock-url", running.url, "--json") as listen:
        assert listen.json_line()["signatures"] == "verified"
        trigger(running.url)
        genuine = listen.json_line()
        assert genuine["signature"] == "ok" and genuine["delivery_id"].startswith("dlv_")
        result = CliRunner().invoke(main, ["fault", "forged_signature", "-p", "mode=wrong_secret",
                                           "--mock-url", running.url])
        assert result.exit_code == 0, result.output
        trigger(running.url)
        forged = listen.json_line()
        assert forged["signature"] == "invalid" and "no v1 signature" in forged["signature_detail"]


def test_listen_forwards_to_a_url_and_answers_its_status(running: RunningMock) -> None:
    with receiving(status=503) as target, process("listen", "--mock-url", running.url, "--forward-to", target.url,
                                                 "--json") as listen:
        listen.json_line()
        trigger(running.url)
        _, headers, body = target.next()
        assert json.loads(body)["events"][0]["action"] == "new_document"
        assert headers["content-type"] == "application/json"
        arrival = listen.json_line()
        assert arrival["status"] == 503 and arrival["forwarded"]["status"] == 503
        [delivery] = running.context.store.deliveries.values()
        until(lambda: delivery["attempts"], "the attempt to be recorded")
        assert delivery["attempts"][0]["status"] == 503


def test_listen_refuses_status_with_forward_to() -> None:
    result = CliRunner().invoke(main, ["listen", "--status", "500", "--forward-to", "http://127.0.0.1:9/"])
    assert result.exit_code == 2 and "exclude each other" in result.stderr
    result = CliRunner().invoke(main, ["listen", "--events", "tea_time"])
    assert result.exit_code == 2 and "tea_time" in result.stderr


def test_verify_agrees_with_the_standard_webhooks_library() -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"events":[]}'
    now = datetime.now(UTC)
    signed = Webhook(secret).sign("msg_1", now, body.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signed}
    assert verify(secret, headers, body, now.timestamp())[0] == "ok"
    assert verify(secret, headers, body + b" ", now.timestamp())[0] == "invalid"
    assert verify(secret, headers, body, now.timestamp() + 301)[0] == "invalid"
    rotated = {**headers, "webhook-signature": "v1,bm90IGl0 " + signed}
    assert verify(secret, rotated, body, now.timestamp())[0] == "ok"
    assert verify(secret, {}, body, now.timestamp())[0] == "unsigned"
    assert verify(None, headers, body, now.timestamp())[0] == "unchecked"
