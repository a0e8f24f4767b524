"""Timestamps as Askara writes them: ISO 8601 with an explicit +00:00 offset."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def iso(epoch: float) -> str:
    return _iso_seconds(int(epoch))


@lru_cache(maxsize=16384)
def _iso_seconds(epoch: int) -> str:
    """Cached: a list serves the same few stored timestamps on every read (5 us each uncached)."""
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO 8601 date or date-time; a bare date is midnight UTC. Raises ValueError."""
    value = text.strip().replace("Z", "+00:00").replace(" ", "+", 1) if "T" in text else text.strip()
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
