"""The mock clock's position kept in the state DB (``--state``), so a restart never moves time back.

Saved in ``store.meta["clock"]`` as ``{mode, scale, now, wall, offset}``: the mock time ``now``
at the real epoch second ``wall``, and the jumps so far (``offset``). It is written when the mock
starts, at every jump (``Clock.advance``), every :data:`SAVE_EVERY` real seconds while a
real or scaled clock runs, and at a clean shutdown, so a SIGKILL loses at most the last save's
age, and not even that (see below).

On restart the clock resumes from the saved position **plus the downtime read on the saved
clock**: a manual clock adds nothing (only ``advance`` moves it); a real or scaled clock adds the
real seconds since ``wall`` divided by its scale, as Askara's own time keeps passing while a
client's view of it is down. So a real or scaled clock continues exactly where the uninterrupted
clock would be, retries that fell due during the downtime fire at once on restart (in due
order), and later ones fire at their recorded times. Should the machine's clock have been set
back, the position never goes below the last one saved. The mode and scale given to the new
process apply from then on; ``--clock-start`` applies only to a fresh state file.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from mock_server.core.clock import Clock, ClockMode
from mock_server.core.settings import Settings
from mock_server.core.store import Store

CLOCK_KEY = "clock"
LEGACY_MANUAL_KEY = "manual_clock"
"""What state files written before the clock was saved in every mode hold (manual clocks only)."""
SAVE_EVERY = 1.0
"""Real seconds between saves of a running clock."""


def restore_clock(settings: Settings, store: Store, *, wall: float | None = None) -> Clock:
    """The clock of a starting mock: resumed from ``store`` when it holds one, else from ``settings``."""
    mode: ClockMode = settings.clock  # type: ignore[assignment]
    saved = store.meta.get(CLOCK_KEY)
    legacy = store.meta.get(LEGACY_MANUAL_KEY)
    if saved is None and legacy is not None:
        saved = {"mode": "manual", "scale": 1.0, "now": float(legacy["now"]), "wall": 0.0, "offset": 0.0}
    if saved is None:
        start = settings.clock_start
        if mode == "manual" and start is None:
            start = float(int(time.time()))
        return Clock(mode, scale=settings.time_scale, start=start)
    real_now = time.time() if wall is None else wall
    position = float(saved["now"])
    if saved["mode"] != "manual":
        position += max(0.0, real_now - float(saved["wall"])) / float(saved["scale"])
    offset = float(saved.get("offset") or 0.0)
    return Clock(mode, scale=settings.time_scale, start=position - offset, offset=offset)


def save_clock(clock: Clock, store: Store, *, wall: float | None = None) -> None:
    """Write the clock's position now (one small row of the state DB)."""
    store.meta.put(
        CLOCK_KEY,
        {
            "mode": clock.mode,
            "scale": clock.scale,
            "now": clock.now(),
            "wall": time.time() if wall is None else wall,
            "offset": clock.offset,
        },
    )


class ClockKeeper:
    """Saves a persisted mock's clock at start, at every jump, periodically while it runs, and at stop."""

    def __init__(self, clock: Clock, store: Store, *, every: float = SAVE_EVERY) -> None:
        self.clock, self.store, self.every = clock, store, every
        self._task: asyncio.Task[None] | None = None
        save_clock(clock, store)
        clock.on_advance(self.save)

    def save(self) -> None:
        save_clock(self.clock, self.store)

    async def start(self) -> None:
        if self.clock.mode != "manual" and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="askara-mock-clock-keeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.save()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)  # real time: the position is a function of real time between jumps
            self.save()
