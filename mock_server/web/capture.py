"""What the journal keeps of one exchange for the HAR transcript: headers and the first bytes of bodies.

The journal middleware wraps ``receive`` and ``send`` with a :class:`Capture`; beside each journal
entry it writes an ``exchanges`` record of the same id (request and response headers as sent,
bodies cut at ``har_body_bytes`` with their full sizes), so the journal listing stays light.
Secrets are kept as they passed: the journal is the mock's own memory, and every export
(``GET /_mock/har``, bundles) redacts them (:mod:`mock_server.support.redact`). A binary answer
(a PDF) keeps its size and type only.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Message, Receive, Scope, Send

TEXT_TYPES = ("json", "text/", "xml", "x-www-form-urlencoded", "html", "javascript")


def is_text(content_type: str) -> bool:
    return any(kind in content_type for kind in TEXT_TYPES)


class Capture:
    """Copies of what one request and its answer carried, bounded by ``limit`` bytes per body."""

    def __init__(self, scope: Scope, limit: int) -> None:
        self.limit = max(limit, 0)
        self.request_headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]]
        self.request_body = bytearray()
        self.request_size = 0
        self.response_headers: list[list[str]] = []
        self.response_body = bytearray()
        self.response_size = 0
        self.response_type = ""

    def receive(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                self.request_size += len(chunk)
                room = self.limit - len(self.request_body)
                if room > 0:
                    self.request_body += chunk[:room]
            return message

        return wrapped

    def send(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            self.seen(message)
            await send(message)

        return wrapped

    def seen(self, message: Message) -> None:
        """Note a message on its way out (the caller may have changed its headers already)."""
        if message["type"] == "http.response.start":
            self.response_headers = [
                [k.decode("latin-1"), v.decode("latin-1")] for k, v in message.get("headers", [])
            ]
            self.response_type = next((v for k, v in self.response_headers if k.lower() == "content-type"), "")
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self.response_size += len(chunk)
            room = self.limit - len(self.response_body)
            if room > 0 and is_text(self.response_type):
                self.response_body += chunk[:room]

    def record(self, scope: Scope) -> dict[str, Any]:
        """The ``exchanges`` record of the journal entry (without its id)."""
        request_type = next((v for k, v in self.request_headers if k.lower() == "content-type"), "")
        return {
            "http_version": scope.get("http_version", "1.1"),
            "scheme": scope.get("scheme", "http"),
            "server": list(scope["server"]) if scope.get("server") else None,
            "request_headers": self.request_headers,
            "request_body": self.request_body.decode("utf-8", errors="replace") if is_text(request_type) or
            not request_type else "",
            "request_size": self.request_size,
            "response_headers": self.response_headers,
            "response_body": self.response_body.decode("utf-8", errors="replace"),
            "response_size": self.response_size,
            "response_kept": is_text(self.response_type),
        }
