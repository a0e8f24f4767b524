"""A change feed: one version counter that store writes and clock jumps bump, and waiters it wakes.

The web page follows the mock live over server-sent events (``GET /_mock/stream``); each stream
waits here for the next change instead of polling, so an idle mock costs no CPU. ``bump`` is
cheap when nobody waits (an increment and an empty check), which matters: the journal is written
on every API request. ``close`` wakes every waiter for good (the server is stopping), so an open
stream never holds a shutdown.

Writes may happen on another thread than a waiter's event loop (a test driving the store), so a
waiter is woken on its own loop.
"""

from __future__ import annotations

import asyncio

IGNORED_TABLES = frozenset({"meta"})
"""Writes that say nothing to a reader: the mock's own bookkeeping (the ``--state`` clock's save every second)."""


class Changes:
    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    def bump(self, table: str | None = None) -> None:
        """Something changed (a write to ``table``, or the clock moved): wake whoever waits."""
        if table in IGNORED_TABLES:
            return
        self.version += 1
        if self._waiters:
            self._wake()

    def close(self) -> None:
        """No more changes will be waited for: every waiter returns now, and every later wait at once."""
        self.closed = True
        self._wake()

    def reopen(self) -> None:
        """A server starts (again) on this context: waits wait again."""
        self.closed = False

    async def wait(self, seen: int, timeout: float | None = None) -> int:
        """The version once it differs from ``seen`` (or on close, or after ``timeout`` seconds)."""
        if self.version != seen or self.closed:
            return self.version
        loop = asyncio.get_running_loop()
        waiter = (loop, loop.create_future())
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter[1]), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)
        return self.version

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for loop, future in waiters:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                _resolve(future)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
