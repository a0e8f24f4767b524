"""Connection limits uvicorn lacks, as a production server has them: header size, header and idle timeouts.

uvicorn (httptools protocol) has a keep-alive timeout, but arms it only after a response: a
connection that never sends a request stays open for ever. It has no limit on the size of a
request's head (a 16 MB header is read and handed to the app) and no deadline for finishing one
(a client sending a byte a second keeps a connection for ever). :class:`GuardedHttpProtocol` adds,
on both origins (API and files):

- ``keep_alive_timeout``: an idle connection (just opened, or between requests) is closed, as
  uvicorn already does after a response;
- ``header_timeout``: from a request's first byte its head (request line and headers) must be
  complete within this many seconds, else ``408`` and the connection is closed (Apache's
  ``RequestReadTimeout``, nginx's ``client_header_timeout``);
- ``max_header_bytes``: a head larger than this is refused ``431`` and the connection closed,
  without buffering the rest (nginx and Node refuse past their buffers too);
- a prompt stop: uvicorn waits for every response still streaming before it stops, and a live
  event stream (``/_mock/stream``) never ends by itself; so the first connection told to shut down
  calls the app's closing hook (``MockContext.closing``, in the lifespan state), which ends them.

The connection limit itself is uvicorn's ``limit_concurrency`` (``503`` beyond it), set by
:func:`mock_server.serving.uvicorn_config`. Refusals are problem+json, like every 4xx of the mock.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from mock_server.core.context import CLOSING_STATE
from mock_server.core.settings import Settings

LINGER_SECONDS = 2.0
"""How long a refused connection's further bytes are read and dropped before it is closed."""


@dataclass(frozen=True)
class HeadLimits:
    """What one connection may do before its request reaches the app."""

    max_header_bytes: int
    header_timeout: float

    @classmethod
    def of(cls, settings: Settings) -> HeadLimits:
        return cls(settings.max_header_bytes, settings.header_timeout)


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of the module docstring (one subclass per server)."""

    limits: ClassVar[HeadLimits]
    _head_bytes = 0
    _reading_head = False
    _refused = False
    _head_timer: asyncio.TimerHandle | None = None

    @classmethod
    def with_limits(cls, limits: HeadLimits) -> type[GuardedHttpProtocol]:
        """A subclass bound to ``limits`` (uvicorn builds protocols from a class and its own config)."""
        return type(cls.__name__, (cls,), {"limits": limits})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A fresh connection is idle until its first byte: the keep-alive timeout applies to it too.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def shutdown(self) -> None:
        closing = self.app_state.get(CLOSING_STATE)
        if closing is not None:
            closing()
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        was_reading = self._reading_head
        if was_reading:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._reading_head and not was_reading:  # a head began in this chunk and is not finished
            self._head_bytes += len(data)
        if self._reading_head and self._head_bytes > self.limits.max_header_bytes:
            self._refuse_head_too_large()

    def on_message_begin(self) -> None:
        if self._refused:
            return
        super().on_message_begin()
        self._reading_head = True
        self._head_bytes = 0
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._reading_head = False
        self._stop_head_timer()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_header_bytes:
            self._refuse_head_too_large()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._reading_head and not self.transport.is_closing():
            seconds = f"{self.limits.header_timeout:g}"
            self._refuse(408, "Request Timeout", f"The request headers were not complete within {seconds} s "
                         "(header_timeout).")

    def _refuse_head_too_large(self) -> None:
        self._refuse(431, "Request Header Fields Too Large", "The request line and headers are larger than "
                     f"{self.limits.max_header_bytes} bytes (max_header_bytes).")

    def _refuse(self, status: int, title: str, detail: str) -> None:
        """Answer a problem+json refusal and close: the rest of the request is never read."""
        self._refused = True
        self._reading_head = False
        self._stop_head_timer()
        self._unset_keepalive_if_required()
        problem: dict[str, Any] = {"type": f"/errors/{status}", "title": title, "detail": detail, "status": status}
        body = orjson.dumps(problem)
        head = [STATUS_LINE[status]]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head.append(b"content-type: application/problem+json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
                    % len(body))
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            # Lingering close: what the client still sends is read and dropped for a moment, so its
            # socket is not reset before it reads the answer (closing on unread data sends an RST).
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()
