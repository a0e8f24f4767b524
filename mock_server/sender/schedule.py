"""When a failed delivery is tried again: Askara's "again after 5 s, 10 s, 20 s (3 retries)", read one way or the other.

The guide's sentence has two readings on each of two points, both settings (``docs/assumptions.md``,
section 5, ``#retry-schedule``):

* ``retry_reading``: ``gaps`` (default) counts each delay from the previous attempt's scheduled
  time (attempts at +0, +5, +15, +35 s); ``offsets`` counts them from the first attempt
  (+0, +5, +10, +20 s).
* ``retry_count``: ``retries`` (default) makes one retry per delay after the first attempt (4
  attempts in all); ``attempts`` makes as many attempts in all as there are delays (3: the first,
  then the first two delays; the last delay is not used).
"""

from __future__ import annotations

from collections.abc import Sequence

from mock_server.core.settings import Settings


def retries_allowed(settings: Settings) -> int:
    """How many retries follow a failed first attempt."""
    delays = len(settings.retry_delays)
    return delays if settings.retry_count == "retries" else max(0, delays - 1)


def next_retry_at(settings: Settings, scheduled: Sequence[float]) -> float | None:
    """The due time of the next retry once the attempts scheduled at ``scheduled`` (first to last) all failed.

    ``None`` when no retry is left: the delivery then fails for good (the failure queue).
    """
    retries_done = len(scheduled) - 1
    if not scheduled or retries_done >= retries_allowed(settings):
        return None
    base = scheduled[0] if settings.retry_reading == "offsets" else scheduled[-1]
    return float(base) + float(settings.retry_delays[retries_done])
