"""The one source of time for the mock, and the timers that fire on it.

Everything time-based (token and URL expiry, rate-limit refill, webhook retries, the 30 s
Synchronize limit) reads :class:`Clock`. Three modes share one formula::

    mock_now = start + (real_elapsed / scale) + offset

* ``real``: scale 1.
* ``scaled``: ``--time-scale 0.01`` makes one mock second last 10 ms of real time, so the
  5/10/20 s retry schedule takes 50/100/200 ms.
* ``manual``: real time is ignored; only :meth:`Clock.advance` moves it.

:meth:`Clock.advance` works in every mode (it adds to ``offset``), so a harness can jump an
hour ahead to expire links even on a real clock. :class:`Timers` is a single scheduler whose
timers fire when the *mock* time reaches their due time, whichever way it got there.

A callback that raises never takes the scheduler down and is never lost: the error is logged on
the ``askara_mock`` logger, kept on :attr:`Timers.errors`, and re-raised by the next
:meth:`Timers.settle` (pytest-httpserver's habit with handler errors), so a test that settles sees
the bug where it happened instead of a delivery that silently never came.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Literal

ClockMode = Literal["real", "scaled", "manual"]
TimerCallback = Callable[[], Awaitable[None] | None]
logger = logging.getLogger("askara_mock")
MAX_KEPT_ERRORS = 100


class Clock:
    """Mock time in epoch seconds; see the module docstring for the modes."""

    def __init__(
        self, mode: ClockMode = "real", *, scale: float = 1.0, start: float | None = None, offset: float = 0.0
    ) -> None:
        if mode == "real":
            scale = 1.0
        if scale <= 0:
            raise ValueError(f"time scale must be > 0, got {scale!r}")
        self.mode: ClockMode = mode
        self.scale = scale
        self._start = time.time() if start is None else float(start)
        self._real_start = time.monotonic()
        self._offset = float(offset)
        """The sum of every jump (``advance``); a clock restored from ``--state`` keeps the jumps it had."""
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        """Current mock time, epoch seconds."""
        if self.mode == "manual":
            return self._start + self._offset
        return self._start + (time.monotonic() - self._real_start) / self.scale + self._offset

    def advance(self, seconds: float) -> float:
        """Move mock time forward (never back) and wake whoever waits on it."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward; got seconds={seconds!r}")
        self._offset += seconds
        for listener in list(self._listeners):
            listener()
        return self.now()

    def real_seconds_until(self, mock_time: float) -> float | None:
        """Real seconds until ``mock_time`` arrives, or None when only ``advance`` can bring it."""
        remaining = mock_time - self.now()
        if remaining <= 0:
            return 0.0
        if self.mode == "manual":
            return None
        return remaining * self.scale

    def restore(self, now: float, offset: float) -> None:
        """Put the clock at ``now`` with ``offset`` jumps so far (a snapshot loaded), and wake whoever waits.

        The one way mock time may go back: the state it is put back with is the state of that time."""
        self._offset = float(offset)
        self._start = float(now) - self._offset
        self._real_start = time.monotonic()
        for listener in list(self._listeners):
            listener()

    @property
    def offset(self) -> float:
        return self._offset

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def describe(self) -> dict[str, object]:
        return {"mode": self.mode, "scale": self.scale, "now": self.now(), "offset": self._offset}


class _Timer:
    """One armed callback; the heap holds ``(due, seq, timer)`` tuples so ordering is C comparisons."""

    __slots__ = ("due", "seq", "callback", "key", "cancelled")

    def __init__(self, due: float, seq: int, callback: TimerCallback, key: str | None) -> None:
        self.due, self.seq, self.callback, self.key, self.cancelled = due, seq, callback, key, False


class Timers:
    """Callbacks due at a mock time, fired in due order by one asyncio task.

    Firing is ordered by (due, insertion), so on a manual clock a jump of 35 s fires the
    retries scheduled at +5, +15 and +35 in order, each seeing ``clock.now()`` at its due time
    or later. ``settle()`` lets tests wait until everything already due has run, without sleeping.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, _Timer]] = []
        self._seq = itertools.count()
        self._by_key: dict[str, _Timer] = {}
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._lateness: list[float] = []
        self.errors: list[BaseException] = []
        clock.on_advance(self._poke)

    def call_at(self, due: float, callback: TimerCallback, *, key: str | None = None) -> None:
        """Run ``callback`` once mock time reaches ``due``; a new timer with the same key replaces the old."""
        if key is not None:
            self.cancel(key)
        timer = _Timer(due, next(self._seq), callback, key)
        heapq.heappush(self._heap, (due, timer.seq, timer))
        if key is not None:
            self._by_key[key] = timer
        if self._task is None:
            self._start_if_loop_running()
        self._poke()

    def _start_if_loop_running(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="askara-mock-timers")

    def cancel(self, key: str) -> bool:
        timer = self._by_key.pop(key, None)
        if timer is None:
            return False
        timer.cancelled = True
        return True

    def pending(self) -> list[tuple[float, str | None]]:
        return sorted((t.due, t.key) for _, _, t in self._heap if not t.cancelled)

    def busy(self) -> bool:
        """Whether a timer is due and not yet fired, or a fired callback is still running."""
        now = self.clock.now()
        return bool(self._running) or any(not t.cancelled and t.due <= now for _, _, t in self._heap)

    def running(self) -> list[asyncio.Task[None]]:
        """The callbacks fired and not finished yet (an attempt waiting for its answer)."""
        return list(self._running)

    @property
    def lateness_samples(self) -> list[float]:
        """Real-time lateness (seconds) of fired timers on non-manual clocks, for benchmarks."""
        return self._lateness

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._start_if_loop_running()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def settle(self, *, rounds: int = 50) -> None:
        """Yield until no due timer is waiting and the callbacks they started have finished, then
        re-raise what any callback raised since the last check (see :meth:`raise_errors`)."""
        for _ in range(rounds):
            await asyncio.sleep(0)
            if not self.busy():
                break
            if self._running:
                await asyncio.wait(list(self._running), timeout=10)
        self.raise_errors()

    def raise_errors(self) -> None:
        """Raise the collected callback errors and forget them: one as itself, several as an
        ExceptionGroup. Nothing happens when no callback raised."""
        errors, self.errors = self.errors, []
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise BaseExceptionGroup(f"{len(errors)} timer callbacks raised", errors)

    def _failed(self, timer: _Timer, error: BaseException) -> None:
        logger.error("timer callback %s (key %r) raised", timer.callback, timer.key, exc_info=error)
        self.errors.append(error)
        if len(self.errors) > MAX_KEPT_ERRORS:  # a served mock nobody settles keeps only the newest
            del self.errors[: len(self.errors) - MAX_KEPT_ERRORS]

    def _finished(self, timer: _Timer, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._failed(timer, task.exception())  # type: ignore[arg-type]

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            self._fire_due()
            self._wake.clear()
            timeout = self._next_wait()
            if timeout is None:
                await self._wake.wait()
                continue
            # A loop timer setting the event, not ``wait_for``: that would start a Task per wait.
            handle = loop.call_later(timeout, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                handle.cancel()

    def _next_wait(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        if not heap:
            return None
        return self.clock.real_seconds_until(heap[0][0])

    def _fire_due(self) -> None:
        now = self.clock.now()
        heap, manual = self._heap, self.clock.mode == "manual"
        while heap and (heap[0][2].cancelled or heap[0][0] <= now):
            timer = heapq.heappop(heap)[2]
            if timer.cancelled:
                continue
            if timer.key is not None and self._by_key.get(timer.key) is timer:
                del self._by_key[timer.key]
            if not manual:
                self._lateness.append((now - timer.due) * self.clock.scale)
                if len(self._lateness) > 100_000:
                    del self._lateness[:50_000]
            try:
                result = timer.callback()
            except Exception as error:  # noqa: BLE001 - kept, logged and re-raised by settle()
                self._failed(timer, error)
                continue
            if asyncio.iscoroutine(result):
                task = asyncio.ensure_future(result)
                self._running.add(task)
                task.add_done_callback(functools.partial(self._finished, timer))
