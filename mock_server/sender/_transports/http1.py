"""A minimal HTTP/1.1 keep-alive client for webhook POSTs: asyncio protocols + httptools (llhttp).

Why not aiohttp: here aiohttp costs ~370 µs of Python per request (request and response
objects, header multidicts, payload writers, stream readers): ~2 700 requests/s at best on the
2-core machine, below the sender's 2 000 deliveries/s goal once the sender's own work is added.
This client does one ``write`` per request and lets llhttp (C) parse the answer: ~10 000
requests/s on the same machine. ``bench/README.md`` has the numbers.

What it does, and all it does: ``POST`` with ``Content-Length``; answers framed by
``Content-Length``, ``chunked`` or the end of the connection (HTTP/1.0 style); 1xx answers
skipped; connections reused per scheme/host/port while the receiver keeps them alive, dropped
after :data:`IDLE_EXPIRY` idle; ``https`` with the default certificate checks or the caller's
(a failed handshake is ``refused``, like any connection that never came up). No redirects, no decompression, no
cookies, no proxies. Failures are :class:`~mock_server.webhooks.transport.DeliveryFailure` with
the sender's kinds. The caller (``attempt``) bounds the whole exchange with its timeout; a
cancelled or failed exchange aborts its connection, which is never reused.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import functools
import ssl
import time
from urllib.parse import quote, unquote, urlsplit

import httptools

from mock_server.sender._transports.base import DeliveryFailure

IDLE_EXPIRY = 2.0
"""Seconds an idle connection is kept: below uvicorn's (5 s) and gunicorn's (2 s, racing) keep-alive
timeouts mostly, so a request rarely lands on a socket the receiver is closing."""
_RESET_ERRNOS = (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED)
_FRAMING = (b"content-length", b"transfer-encoding")
_Key = tuple[str, str, int]


class _Stop(Exception):
    """Raised from a parser callback to stop parsing (the failure is already set)."""


class _Connection(asyncio.Protocol):
    """One TCP connection; at most one exchange at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._keep = 0
        self._max = 0
        self._reset_answer()

    def _reset_answer(self) -> None:
        self._status = 0
        self._kept = bytearray()
        self._total = 0
        self._framed = False
        self._headers_done = False
        self._failure: DeliveryFailure | None = None

    # -- the exchange --------------------------------------------------------------------------

    def exchange(self, request: bytes, keep_bytes: int, max_bytes: int) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None and self._waiter is None
        self._reset_answer()
        self._keep, self._max = keep_bytes, max_bytes
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._waiter

    def _finish(self, result: tuple[int, bytes] | None, failure: DeliveryFailure | None = None) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is None or waiter.done():
            return
        if failure is not None:
            waiter.set_exception(failure)
        else:
            waiter.set_result(result)  # type: ignore[arg-type]

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # bytes nobody asked for: the connection is no longer in step
            self.abort()
            return
        try:
            self.parser.feed_data(data)
        except (_Stop, httptools.HttpParserCallbackError) as exc:
            failure = self._failure or DeliveryFailure("error", f"cannot read the answer: {exc}")
            self.abort()
            self._finish(None, failure)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self.abort()
            self._finish(None, DeliveryFailure("error", f"not a valid HTTP answer: {exc}"))

    def eof_received(self) -> bool:
        self.closed = True
        return False  # close our side too; connection_lost decides what the EOF meant

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None:
            return
        if exc is None and self._headers_done and not self._framed and self._status not in (204, 304):
            self._finish((self._status, bytes(self._kept)))  # body delimited by the end of the connection
            return
        if exc is not None and not (isinstance(exc, OSError) and exc.errno in _RESET_ERRNOS):
            self._finish(None, DeliveryFailure("error", f"connection lost: {exc}"))
        elif self._headers_done:
            self._finish(None, DeliveryFailure("reset", "the answer body was cut short (connection closed)"))
        else:
            self._finish(None, DeliveryFailure("reset", "the receiver closed the connection without a complete answer"))

    # -- httptools callbacks ---------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._waiter is None:  # a second answer nobody asked for, in the same packet
            raise _Stop

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in _FRAMING:
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True
        self._status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self._total += len(body)
        room = self._keep - len(self._kept)
        if room > 0:
            self._kept += body[:room]
        if self._total > self._max:
            self._failure = DeliveryFailure("error", f"the answer body is larger than {self._max} bytes")
            raise _Stop

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:  # 100 Continue and friends: the real answer follows
            self._reset_answer()
            return
        if not self.parser.should_keep_alive():
            self.closed = True
            if self.transport is not None:
                self.transport.close()
        self._finish((self._status, bytes(self._kept)))


class Http1Client:
    """Keep-alive connections by scheme/host/port; see the module docstring."""

    def __init__(self, *, idle_expiry: float = IDLE_EXPIRY, ssl_context: ssl.SSLContext | None = None) -> None:
        self.idle_expiry = idle_expiry
        self._idle: dict[_Key, list[_Connection]] = {}
        self._all: set[_Connection] = set()
        self._ssl = ssl_context
        """Checks of ``https`` receivers; None: the system store (``ssl.create_default_context``)."""

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, keep_bytes: int, max_bytes: int
    ) -> tuple[int, bytes]:
        key, head = _request_head(url)
        request = b"".join((head, _header_block(headers, len(body)), body))
        connection = self._take(key) or await self._connect(key)
        try:
            status, kept = await connection.exchange(request, keep_bytes, max_bytes)
        except BaseException:
            connection.abort()  # failed, timed out or cancelled mid-exchange: never reuse it
            self._all.discard(connection)
            raise
        if connection.closed:
            self._all.discard(connection)
        else:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(key, []).append(connection)
        return status, kept

    def _take(self, key: _Key) -> _Connection | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        oldest_usable = time.monotonic() - self.idle_expiry
        while idle and idle[0].idle_since < oldest_usable:  # the bottom of the stack: expired ones go
            expired = idle.pop(0)
            expired.abort()
            self._all.discard(expired)
        while idle:
            connection = idle.pop()  # most recently used first: the warmest, least likely closed
            if not connection.closed and connection.idle_since >= oldest_usable:
                return connection
            connection.abort()
            self._all.discard(connection)
        return None

    async def _connect(self, key: _Key) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        context = self._ssl_context() if scheme == "https" else None
        try:
            _, connection = await loop.create_connection(
                _Connection, host, port, ssl=context, server_hostname=host if context else None
            )
        except OSError as exc:  # refused, unreachable, DNS, TLS handshake: the connection never came up
            raise DeliveryFailure("refused", f"cannot connect to {host}:{port}: {exc}") from None
        self._all.add(connection)
        return connection

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def close(self) -> None:
        for connection in list(self._all):
            connection.abort()
        self._all.clear()
        self._idle.clear()


@functools.lru_cache(maxsize=1024)
def _request_head(url: str) -> tuple[_Key, bytes]:
    """The pool key and ``POST <target> HTTP/1.1`` + ``Host`` for a URL (already checked by ``url_problem``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ascii_host = host.encode("ascii").decode()
    except UnicodeEncodeError:
        try:
            ascii_host = host.encode("idna").decode()
        except UnicodeError as exc:
            raise DeliveryFailure("invalid_url", f"invalid host name {host!r}: {exc}") from None
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    # Percent-encode what may not appear raw in a request line (spaces, controls, non-ASCII),
    # keeping existing escapes, as browsers and aiohttp/yarl do.
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        target += "?" + quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    shown_host = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    host_header = shown_host if port == default_port else f"{shown_host}:{port}"
    head = f"POST {target} HTTP/1.1\r\nHost: {host_header}\r\n"
    if parts.username is not None:  # http://user:password@host/ sends Basic credentials, as aiohttp did
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        head += f"Authorization: Basic {base64.b64encode(credentials).decode()}\r\n"
    return (parts.scheme, ascii_host, port), head.encode("ascii")


def _header_block(headers: dict[str, str], length: int) -> bytes:
    lines = [f"{name}: {value}\r\n" for name, value in headers.items() if name.lower() not in _SET_BY_CLIENT]
    return ("".join(lines) + f"Accept: */*\r\nContent-Length: {length}\r\n\r\n").encode("latin-1")


_SET_BY_CLIENT = frozenset(("host", "content-length", "transfer-encoding", "connection", "accept"))

