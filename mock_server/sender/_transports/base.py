"""How one delivery attempt reaches a receiver, behind a small interface tests can replace.

:func:`attempt` owns everything that does not depend on the HTTP library: URL checks, the
whole-attempt timeout (connect + headers + body, so a trickling body cannot hold a worker),
latency, and sorting the answer into ``failure`` kinds. A :class:`Transport` only does the I/O:
``post()`` returns ``(status, first bytes of the body)`` or raises :class:`DeliveryFailure`.

Implementations, one module each: :mod:`.http1` (the default, a minimal keep-alive HTTP/1.1
client on asyncio protocols and llhttp), :mod:`.aiohttp_transport` and :mod:`.httpx_transport`
(kept for the benchmark comparison), :mod:`.function` (a Python function in process, for property
tests). The sender picks the default; numbers and the choice: ``bench/README.md``.
"""

from __future__ import annotations

import asyncio
import functools
import time
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
