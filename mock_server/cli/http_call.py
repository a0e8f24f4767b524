"""One HTTP exchange with the standard library, for the CLI's control-API client.

The client commands (``deliveries``, ``trigger``, ``clock`` ...) make one or two calls to a mock on
this machine and exit, so their cost is start-up: importing httpx (and httpcore with it) took
about half of a client command's CPU time (bench/bench_startup.py), while ``http.client`` is
already half-loaded by the interpreter. The server, the harness and the tests keep httpx.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

TRANSPORT_ERRORS = (OSError, http.client.HTTPException)
"""What a call raises when the mock cannot be reached or answers no HTTP (refused, reset, TLS, timeout)."""


@dataclass
class Answer:
    """What the commands read of an answer (the names httpx gives them, so callers read alike)."""

    method: str
    path: str
    status_code: int
    reason_phrase: str
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


def exchange(
    base_url: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    tls: ssl.SSLContext | None = None,
) -> Answer:
    """``method base_url+path?params`` with ``body`` as JSON; raises one of :data:`TRANSPORT_ERRORS`."""
    base = urlsplit(base_url)
    target = base.path.rstrip("/") + path + (f"?{urlencode(params, doseq=True)}" if params else "")
    sent = {"Accept": "application/json", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        sent["Content-Type"] = "application/json"
    connection: http.client.HTTPConnection
    if base.scheme == "https":
        connection = http.client.HTTPSConnection(base.hostname or "", base.port, timeout=timeout,
                                                 context=tls or ssl.create_default_context())  # fmt: skip
    else:
        connection = http.client.HTTPConnection(base.hostname or "", base.port, timeout=timeout)
    try:
        connection.request(method, target, body=data, headers=sent)
        response = connection.getresponse()
        content = response.read()
        return Answer(method, path, response.status, response.reason, content,
                      {k.lower(): v for k, v in response.getheaders()})  # fmt: skip
    finally:
        connection.close()
