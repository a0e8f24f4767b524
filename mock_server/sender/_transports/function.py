"""A transport that calls a Python function in process: for property tests, no sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

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
