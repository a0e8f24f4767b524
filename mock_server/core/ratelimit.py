"""Askara's token bucket: ``capacity`` requests, ``refill`` more every ``interval`` seconds, per client.

Refills come in whole steps at the end of each interval (the docs' "500 requests every 15
minutes", and ``x-ratelimit-reset`` as "the next reset period" in epoch seconds), all on the mock
clock, so a test can empty a bucket and advance the clock to see it refill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mock_server.core.clock import Clock
from mock_server.core.settings import Settings


@dataclass
class Bucket:
    tokens: float
    period_start: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]


class RateLimiter:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.capacity = settings.rate_limit_capacity
        self.refill = settings.rate_limit_refill
        self.interval = settings.rate_limit_interval
        self.enabled = settings.rate_limit_enabled
        self.clock = clock
        self._buckets: dict[str, Bucket] = {}

    def _bucket(self, key: str, now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(float(self.capacity), now)
            return bucket
        periods = math.floor((now - bucket.period_start) / self.interval)
        if periods > 0:
            bucket.tokens = min(float(self.capacity), bucket.tokens + periods * self.refill)
            bucket.period_start += periods * self.interval
        return bucket

    def take(self, key: str) -> Decision:
        """Spend one request of ``key``'s bucket, or say how long to wait."""
        now = self.clock.now()
        bucket = self._bucket(key, now)
        reset_at = bucket.period_start + self.interval
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Decision(True, self.capacity, int(bucket.tokens), math.ceil(reset_at), 0)
        return Decision(False, self.capacity, 0, math.ceil(reset_at), max(1, math.ceil(reset_at - now)))

    def drain(self, key: str) -> None:
        """Fault: empty ``key``'s bucket now; it refills at the next period as usual."""
        self._bucket(key, self.clock.now()).tokens = 0.0

    def reset(self) -> None:
        """Forget every bucket (``POST /_mock/reset``): each client starts full again."""
        self._buckets.clear()

    def snapshot(self) -> dict[str, dict[str, float]]:
        now = self.clock.now()
        return {
            key: {"remaining": int(bucket.tokens), "reset": bucket.period_start + self.interval}
            for key in list(self._buckets)
            for bucket in (self._bucket(key, now),)
        }

    def buckets(self) -> dict[str, dict[str, float]]:
        """Every bucket as it is kept (no refill applied): what a snapshot saves."""
        return {key: {"tokens": b.tokens, "period_start": b.period_start} for key, b in self._buckets.items()}

    def load_buckets(self, buckets: dict[str, dict[str, float]]) -> None:
        """Replace every bucket with ``buckets`` (the shape :meth:`buckets` returns)."""
        self._buckets = {key: Bucket(float(b["tokens"]), float(b["period_start"])) for key, b in buckets.items()}
