"""``askara-mock listen``'s receiver: answer each delivery, check its signature, say what arrived.

A stdlib ``ThreadingHTTPServer`` (a developer's receiver needs no event loop; one thread per
connection, HTTP/1.1 keep-alive as the mock's sender uses it). For each POST the :class:`Inbox`:

1. checks the Standard Webhooks signature when there is one, with the secret the mock shows in
   ``GET /_mock/credentials`` (re-read when a signed delivery comes and none was known: arming
   a ``forged_signature`` fault turns signing on);
2. finds the delivery in the mock's log (the ``webhook-id`` header when signed, else the
   delivery of this webhook whose body is the one received) and the attempt number. This is
   asked BEFORE answering: the sender records an attempt only once it has the answer, so the
   log then holds exactly the attempts before this one;
3. answers the chosen status, or forwards the request to ``--forward-to`` and answers what that
   answered (502 when it cannot be reached);
4. prints one line (``--json``: one JSON object) per delivery.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import click
import httpx

from mock_server.cli.control_client import ControlClient
from mock_server.cli.output import print_json_line
from mock_server.sender.signing import secret_key, signature

TOLERANCE_SECONDS = 5 * 60
"""Standard Webhooks: a timestamp more than 5 minutes from the receiver's clock is refused."""
FORWARDED_HEADERS = ("content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature")


@dataclass
class Arrival:
    """One request as received, and what the listener answered."""

    received_at: float
    delivery_id: str | None
    attempt: int | None
    events: list[dict[str, Any]]
    signature: str
    """``ok``, ``invalid``, ``unsigned`` or ``unchecked``."""
    signature_detail: str
    status: int
    forwarded: dict[str, Any] | None = None
    path: str = "/"

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["received_at"] = datetime.fromtimestamp(self.received_at, UTC).isoformat(timespec="milliseconds")
        return body

    def line(self) -> str:
        when = datetime.fromtimestamp(self.received_at).strftime("%Y-%m-%d %H:%M:%S")
        events = ", ".join(f"{e.get('action')} {e.get('resource_type')} {e.get('id')}" for e in self.events)
        verdict = {"ok": "signature ok", "unsigned": "unsigned"}.get(self.signature)
        verdict = verdict or f"signature {self.signature.upper()} ({self.signature_detail})"
        answer = f"<- {self.status}"
        if self.forwarded is not None:
            forwarded = self.forwarded
            answer += (f" from {forwarded['url']} in {forwarded['latency_ms']} ms" if forwarded.get("status")
                       else f" (forward to {forwarded['url']} failed: {forwarded.get('error')})")
        attempt = f"attempt {self.attempt}" if self.attempt is not None else "attempt ?"
        return "  ".join([when, self.delivery_id or "(delivery not found)", attempt, events or "(no events)",
                          verdict, answer])


def verify(secret: str | None, headers: Mapping[str, str], body: bytes, now: float) -> tuple[str, str]:
    """Standard Webhooks verification: ``(verdict, detail)``; verdict ok, invalid, unsigned or unchecked."""
    message_id, stamp, signatures = (headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (message_id or stamp or signatures):
        return "unsigned", "no webhook-signature header" + (" although the mock signs" if secret else "")
    if secret is None:
        return "unchecked", "signed, but the mock shows no webhook secret"
    if not (message_id and stamp and signatures):
        return "invalid", "webhook-id, webhook-timestamp and webhook-signature must all be present"
    try:
        timestamp = int(stamp)
    except ValueError:
        return "invalid", f"webhook-timestamp {stamp!r} is not an integer"
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return "invalid", f"webhook-timestamp is {now - timestamp:+.0f} s from now (more than 5 minutes)"
    expected = signature(secret_key(secret), message_id, timestamp, body).partition(",")[2]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return "ok", "a v1 signature matches the mock's secret"
    return "invalid", "no v1 signature matches the mock's secret"


@dataclass
class Inbox:
    """What ``listen`` does with each request; :meth:`server` serves it."""

    client: ControlClient
    status: int = 200
    forward_to: str | None = None
    as_json: bool = False
    secret: str | None = None
    webhook_id: str | None = None
    received: list[Arrival] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes, str, Arrival]:
        """Check, locate, forward or answer: ``(status, body, content type, arrival)``."""
        now = time.time()
        events = _events(body)
        if self.secret is None and headers.get("webhook-signature"):
            self.secret = self._mock_secret()
        verdict, detail = verify(self.secret, headers, body, now)
        delivery_id, attempt = self._locate(headers, body, events)
        status, answer, content_type, forwarded = self.status, b'{"received":true}', "application/json", None
        if self.forward_to:
            status, answer, content_type, forwarded = self._forward(headers, body)
        arrival = Arrival(now, delivery_id, attempt, events, verdict, detail, status, forwarded, path)
        return status, answer, content_type, arrival

    def report(self, arrival: Arrival) -> None:
        with self._lock:
            self.received.append(arrival)
            if self.as_json:
                print_json_line(arrival.to_json())
            else:
                click.echo(arrival.line())

    def server(self, host: str, port: int) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((host, port), _handler(self))
        server.daemon_threads = True
        return server

    def _mock_secret(self) -> str | None:
        try:
            secret = self.client.get("/_mock/credentials").get("webhook_secret")
        except click.ClickException:
            return None
        return str(secret) if secret else None

    def _locate(self, headers: Mapping[str, str], body: bytes, events: list[dict[str, Any]]) -> tuple[str | None,
                                                                                                   int | None]:
        delivery_id = headers.get("webhook-id")
        try:
            if delivery_id is None:
                query: dict[str, Any] = {"webhook": self.webhook_id}
                resource = next((e.get("id") for e in events if e.get("id")), None)
                if resource:
                    query["event"] = resource
                answer = self.client.get("/_mock/deliveries", **query) or {}
                text = body.decode("utf-8", errors="replace")
                matches = [d["id"] for d in answer.get("items") or [] if d.get("body") == text]
                delivery_id = matches[-1] if matches else None
            if delivery_id is None:
                return None, None
            record = self.client.get(f"/_mock/deliveries/{delivery_id}")
            return delivery_id, len(record.get("attempts") or []) + 1
        except click.ClickException:  # not one of the mock's deliveries, or the mock is gone
            return delivery_id, None

    def _forward(self, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes, str, dict[str, Any]]:
        assert self.forward_to is not None
        sent = {name: value for name, value in headers.items() if name in FORWARDED_HEADERS}
        started = time.monotonic()
        try:
            response = httpx.post(self.forward_to, content=body, headers=sent, timeout=30.0)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            return 502, json.dumps({"error": error}).encode(), "application/json", {"url": self.forward_to,
                                                                                      "error": error}
        latency = round((time.monotonic() - started) * 1000)
        forwarded = {"url": self.forward_to, "status": response.status_code, "latency_ms": latency}
        content_type = response.headers.get("content-type", "application/octet-stream")
        return response.status_code, response.content, content_type, forwarded


def _events(body: bytes) -> list[dict[str, Any]]:
    """The envelope's events as ``{action, resource_type, id}`` (empty when the body is not one)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return []
    items = envelope.get("events") if isinstance(envelope, dict) else None
    return [
        {"action": e.get("action"), "resource_type": e.get("resource_type"), "id": e.get("id")}
        for e in items or []
        if isinstance(e, dict)
    ]


def _handler(inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "askara-mock-listen"

        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer, content_type, arrival = inbox.receive(self.path, headers, body)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            self.wfile.flush()
            inbox.report(arrival)

        def do_GET(self) -> None:  # noqa: N802
            answer = b"askara-mock listen: the mock POSTs its deliveries here.\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet: :meth:`Inbox.report` prints what matters."""

    return Handler
