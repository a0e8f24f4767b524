"""A tiny scripted Askara for ``httpx.MockTransport``: unit tests of the reference's client logic, no sockets.

The live mock proves the happy path end to end; this fake lets a test script the awkward answers
(a cut body, a 403 link, a 401, a 429) one by one and see exactly what the reference sent back.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "http://askara.test"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _jwt(iat: int) -> str:
    """An unsigned token whose payload carries ``iat`` (the reference reads it to learn the server clock)."""
    payload = base64.urlsafe_b64encode(json.dumps({"iat": iat}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{payload}.x"


@dataclass
class FakeAskara:
    """Valid tokens rotate like Askara's; ``script[path]`` queues canned answers before the default one."""

    refresh_token: str = "def502-first"
    documents: list[dict[str, Any]] = field(default_factory=list)
    script: dict[str, deque[httpx.Response]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[httpx.Request] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    token_bodies: list[dict[str, Any]] = field(default_factory=list)
    status_reports: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    access_tokens: set[str] = field(default_factory=set)
    spent: set[str] = field(default_factory=set)
    issued: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.valid_refresh = {self.refresh_token}

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

    def queue(self, path: str, *responses: httpx.Response) -> None:
        self.script[path].extend(responses)

    def paths(self, prefix: str = "") -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests if r.url.path.startswith(prefix)]

    def times_of(self, path: str) -> list[float]:
        return [at for r, at in zip(self.requests, self.times, strict=True) if r.url.path == path]

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(time.monotonic())
        path = request.url.path
        if self.script[path]:
            return self.script[path].popleft()
        if path == "/oauth2/token":
            return self._token(json.loads(request.content))
        if path.startswith("/files/"):
            return file_response(PDF)
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.access_tokens:
            return httpx.Response(401, json={"title": "An error occurred", "detail": "expired"})
        parts = path.strip("/").split("/")
        if parts == ["documents"]:
            page = int(request.url.params.get("page", "1"))
            return httpx.Response(200, json=self.documents[(page - 1) * 20 : page * 20])
        if len(parts) == 2 and parts[0] == "documents":
            return httpx.Response(200, json={"uuid": parts[1], "pdf": {"url": f"{API}/files/{parts[1]}/fresh.pdf"}})
        if len(parts) == 3 and parts[2] == "status":
            self.status_reports.append((parts[1], json.loads(request.content)))
            return httpx.Response(201, json={})
        if parts[0] == "notes":
            return httpx.Response(200, json={"uuid": parts[1], "audio": "/audios/x"})
        return httpx.Response(404, json={"detail": "no route"})

    def _token(self, body: dict[str, Any]) -> httpx.Response:
        self.token_bodies.append(body)
        token = body.get("refresh_token")
        if token not in self.valid_refresh:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "spent or unknown"})
        self.valid_refresh.discard(token)
        self.spent.add(token)
        new_refresh = "def502-" + secrets.token_hex(4)
        self.valid_refresh.add(new_refresh)
        self.issued.append(new_refresh)
        access = _jwt(1_780_000_000) + secrets.token_hex(4)
        self.access_tokens.add(access)
        answer = {"token_type": "Bearer", "expires_in": 3600, "access_token": access, "refresh_token": new_refresh}
        return httpx.Response(200, json=answer)


def file_response(body: bytes, length: int | None = None, status: int = 200) -> httpx.Response:
    """A download answer as a network would give it: a stream (not pre-read), Content-Length of our choosing."""
    headers = {"content-type": "application/pdf", "content-length": str(len(body) if length is None else length)}
    return httpx.Response(status, stream=httpx.ByteStream(body), headers=headers)


def document_event(doc_uuid: str, url: str | None = None, action: str = "new_document") -> dict[str, Any]:
    pdf = {"url": url or f"{API}/files/{doc_uuid}/letter.pdf", "fileName": "letter.pdf"}
    return {
        "id": doc_uuid,
        "resource_type": "document",
        "action": action,
        "metadata": {"document": {"uuid": doc_uuid, "state": "verified", "pdf": pdf}},
        "resource_metadata": {"user_id": "u", "organization_id": "o"},
    }
