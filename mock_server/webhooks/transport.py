"""How one delivery attempt reaches a receiver, behind a small interface tests can replace.

:func:`attempt` owns everything that does not depend on the HTTP library: URL checks, the
whole-attempt timeout (connect + headers + body, so a trickling body cannot hold a worker),
latency, and sorting the answer into ``failure`` kinds. A :class:`Transport` only does the I/O:
``post()`` returns ``(status, first bytes of the body)`` or raises :class:`DeliveryFailure`.

The default transport is :class:`~mock_server.webhooks.http1.Http1Client` (a minimal keep-alive
HTTP/1.1 client on asyncio protocols and llhttp); :class:`AiohttpTransport` (one session, no
redirects, no decompression, no cookies) and :class:`HttpxTransport` (one ``AsyncClient`` per
destination) stay for the benchmark comparison; :class:`FunctionTransport` runs a Python function
in process for property tests. Numbers and the choice: ``bench/README.md``.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

FAILURES = ("refused", "timeout", "status", "reset", "redirect", "invalid_url", "error")


class DeliveryFailure(Exception):
    """An attempt that got no usable answer; ``kind`` is one of :data:`FAILURES`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the answer (status, first bytes) or the failure, and how long it took."""

    status: int | None
    body: bytes
    failure: str | None
    error: str | None
    latency_ms: float

    @property
    def ok(self) -> bool:
        return self.failure is None


class Transport(Protocol):
    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, keep_bytes: int, max_bytes: int
    ) -> tuple[int, bytes]:
        """POST ``body``; return the status and at most ``keep_bytes`` of the answer body.

        The rest of the answer is read and thrown away, up to ``max_bytes`` in all; past that
        raise ``DeliveryFailure("error", ...)``. Never follow redirects.
        """
        ...

    async def close(self) -> None: ...


class DestinationLimiter:
    """At most ``limit`` attempts in flight per scheme/host/port.

    Waiting for a slot happens *before* the timeout starts: the 5 s measure the receiver, not
    the sender's own queue when thousands of deliveries are due at once.
    """

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self._slots: dict[str, asyncio.Semaphore] = {}

    def slot(self, url: str) -> asyncio.Semaphore:
        key = _destination(url)
        semaphore = self._slots.get(key)
        if semaphore is None:
            semaphore = self._slots[key] = asyncio.Semaphore(self.limit)
        return semaphore


async def attempt(
    transport: Transport,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    keep_bytes: int,
    max_bytes: int,
    limiter: DestinationLimiter | None = None,
) -> Outcome:
    """One attempt, never raising: every way it can go wrong becomes a recorded failure."""
    problem = url_problem(url)
    if problem is not None:
        return Outcome(None, b"", "invalid_url", problem, 0.0)
    if limiter is None:
        return await _timed(transport, url, body, headers, timeout, keep_bytes, max_bytes)
    async with limiter.slot(url):
        return await _timed(transport, url, body, headers, timeout, keep_bytes, max_bytes)


async def _timed(
    transport: Transport, url: str, body: bytes, headers: dict[str, str], timeout: float, keep_bytes: int,
    max_bytes: int,
) -> Outcome:
    """The exchange under one deadline covering connect, request, headers and the whole body."""
    started = time.perf_counter()
    status: int | None = None
    answer, failure, error = b"", None, None
    try:
        async with asyncio.timeout(timeout):
            status, answer = await transport.post(url, body, headers, keep_bytes=keep_bytes, max_bytes=max_bytes)
    except TimeoutError:
        status, answer = None, b""
        failure, error = "timeout", f"no complete answer within {timeout:g} s"
    except DeliveryFailure as exc:
        failure, error = exc.kind, str(exc)
    except Exception as exc:  # a delivery must never crash the sender
        failure, error = "error", f"{type(exc).__name__}: {exc}"
    else:
        if 300 <= status < 400:
            failure, error = "redirect", f"answered {status}; redirects are not followed"
        elif not 200 <= status < 300:
            failure, error = "status", f"answered {status}; a 2xx is expected"
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    return Outcome(status, answer[:keep_bytes], failure, error, latency_ms)


@functools.lru_cache(maxsize=1024)
def _destination(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@functools.lru_cache(maxsize=1024)
def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be delivered to, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"only http and https URLs can receive webhooks, not {parts.scheme or '(no scheme)'!r}"
    if not parts.hostname:
        return "the URL has no host"
    return None


class AiohttpTransport:
    """One aiohttp session for every destination, created on first use in the running loop."""

    def __init__(self, *, limit_per_host: int = 0) -> None:
        self.limit_per_host = limit_per_host
        self._session: object | None = None

    def _get_session(self):  # type: ignore[no-untyped-def]
        import aiohttp

        if self._session is None or self._session.closed:  # type: ignore[attr-defined]
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=self.limit_per_host, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("Accept-Encoding",),
            )
        return self._session

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, keep_bytes: int, max_bytes: int
    ) -> tuple[int, bytes]:
        import aiohttp

        session = self._get_session()
        try:
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                kept = bytearray()
                while len(kept) < keep_bytes:
                    chunk = await response.content.read(keep_bytes - len(kept))
                    if not chunk:
                        return response.status, bytes(kept)
                    kept += chunk
                total = len(kept)
                while chunk := await response.content.readany():
                    total += len(chunk)
                    if total > max_bytes:
                        response.close()
                        raise DeliveryFailure("error", f"the answer body is larger than {max_bytes} bytes")
                return response.status, bytes(kept)
        except aiohttp.ClientConnectorError as exc:
            raise DeliveryFailure("refused", f"cannot connect: {exc.os_error or exc}") from None
        except aiohttp.ServerDisconnectedError:
            raise DeliveryFailure("reset", "the receiver closed the connection without a complete answer") from None
        except aiohttp.ClientPayloadError as exc:
            raise DeliveryFailure("reset", f"the answer body was cut short: {exc}") from None
        except aiohttp.InvalidURL as exc:
            raise DeliveryFailure("invalid_url", f"invalid URL: {exc}") from None
        except aiohttp.ClientOSError as exc:
            kind = "reset" if exc.errno in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED) else "error"
            raise DeliveryFailure(kind, str(exc)) from None
        except aiohttp.ClientResponseError as exc:
            raise DeliveryFailure("error", f"not a valid HTTP answer: {exc.message}") from None
        except aiohttp.ClientError as exc:
            raise DeliveryFailure("error", f"{type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()  # type: ignore[attr-defined]
            self._session = None


class HttpxTransport:
    """httpx, one ``AsyncClient`` per scheme/host/port (a shared client tops out near 460/s)."""

    def __init__(self, *, per_destination: bool = True, max_connections: int = 100) -> None:
        self.per_destination = per_destination
        self.max_connections = max_connections
        self._clients: dict[tuple[str, str, int | None], object] = {}

    def _client(self, url: str):  # type: ignore[no-untyped-def]
        import httpx

        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port) if self.per_destination else ("", "", None)
        client = self._clients.get(key)
        if client is None:
            limits = httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections)
            client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=None, limits=limits)
            self._clients[key] = client
        return client

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, keep_bytes: int, max_bytes: int
    ) -> tuple[int, bytes]:
        import httpx

        try:
            async with self._client(url).stream("POST", url, content=body, headers=headers) as response:
                kept = bytearray()
                total = 0
                async for chunk in response.aiter_raw():
                    total += len(chunk)
                    if len(kept) < keep_bytes:
                        kept += chunk[: keep_bytes - len(kept)]
                    if total > max_bytes:
                        raise DeliveryFailure("error", f"the answer body is larger than {max_bytes} bytes")
                return response.status_code, bytes(kept)
        except httpx.ConnectError as exc:
            raise DeliveryFailure("refused", f"cannot connect: {exc}") from None
        except (httpx.ReadError, httpx.WriteError) as exc:
            raise DeliveryFailure("reset", f"connection lost: {exc or type(exc).__name__}") from None
        except httpx.RemoteProtocolError as exc:
            kind = "reset" if "disconnected" in str(exc) or "closed" in str(exc) else "error"
            raise DeliveryFailure(kind, str(exc)) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise DeliveryFailure("invalid_url", str(exc)) from None
        except httpx.HTTPError as exc:
            raise DeliveryFailure("error", f"{type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()  # type: ignore[attr-defined]


Handler = Callable[[str, bytes, dict[str, str]], Awaitable[tuple[int, bytes]] | tuple[int, bytes]]


class FunctionTransport:
    """In-process receiver: ``handler(url, body, headers) -> (status, body)``; it may raise
    :class:`DeliveryFailure` (e.g. ``DeliveryFailure("refused", ...)``) or sleep to time out."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, keep_bytes: int, max_bytes: int
    ) -> tuple[int, bytes]:
        self.calls.append((url, body, headers))
        result = self.handler(url, body, headers)
        if asyncio.iscoroutine(result):
            result = await result
        status, answer = result  # type: ignore[misc]
        return status, answer[:keep_bytes]

    async def close(self) -> None:
        return None


def default_transport() -> Transport:
    """The minimal keep-alive client (:mod:`mock_server.webhooks.http1`); numbers in bench/README.md."""
    from mock_server.webhooks.http1 import Http1Client

    return Http1Client()
