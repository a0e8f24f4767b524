"""A small customer story played against a live mock, for the support toolkit's tests (HAR, bundles).

Real parts: uvicorn on loopback, a real webhook receiver (``http.server`` in a thread) and a
webhook on a port where nothing listens (the attempt is refused), the real refresh-token grant,
an API read and a PDF download through the pre-signed link.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from mock_server.serving import free_port


@dataclass
class Receiver:
    """Answers every POST 200 and keeps the bodies."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length") or 0)
            state.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
            answer = b'{"received":true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def refused_url() -> str:
    """A loopback URL where nothing listens (a free port, closed again)."""
    return f"http://127.0.0.1:{free_port()}/hook"


def wait_for(predicate: Any, seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def play(mock_url: str) -> dict[str, Any]:
    """OAuth refresh, a new document delivered to both webhooks, a read and a PDF download.

    Returns the raw facts the tests look for: the credentials, the token answer, the document."""
    with httpx.Client(base_url=mock_url, timeout=10) as http:
        creds = http.get("/_mock/credentials").json()
        token = http.post(
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": creds["refresh_token"],
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
            },
        ).json()
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        created = http.post("/_mock/documents", json={"validate": True}).json()
        uuid = created["document"]["uuid"]
        document = http.get(f"/documents/{uuid}", headers=bearer).json()
        pdf = httpx.get(document["pdf"]["url"], timeout=10)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

        def attempted() -> bool:
            items = http.get("/_mock/deliveries").json()["items"]
            return len(items) >= 2 and all(d["attempts"] for d in items)

        wait_for(attempted)
        return {"credentials": creds, "token": token, "document": document, "pdf_url": document["pdf"]["url"]}
