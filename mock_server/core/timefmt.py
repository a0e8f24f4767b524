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


# -- the ISO 8601 texts the mock reads (query filters, patient dates), as one regex ------------------
# Exact to the calendar, so a document can say it and a fuzzer cannot find a text the regex admits
# and the parser refuses: months 01-12, each month's days, 29 February in leap years only, hours
# 00-23, years 1000-9998 (an offset cannot push a time past Python's year range). A space stands
# for the ``+`` of an offset that a query string turned into one.
_YEAR = "(?:1[0-9]{3}|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"


def _calendar_day(dash: str) -> str:
    """A real day of years 1000-9998, its fields joined by ``dash`` (``-`` extended, ``""`` basic format)."""
    month_day = (
        f"(?:(?:0[13578]|1[02]){dash}(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11){dash}(?:0[1-9]|[12][0-9]|30)"
        f"|02{dash}(?:0[1-9]|1[0-9]|2[0-8]))"
    )
    leap = f"(?:[1-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[13579][26]|[2468][048])00){dash}02{dash}29"
    return f"(?:{_YEAR}{dash}{month_day}|{leap})"


BASIC_DAY = _calendar_day("")
"""``yyyymmdd``, a real day (SigV4's date stamps)."""
_HOUR_MINUTE = "(?:[01][0-9]|2[0-3]):?[0-5][0-9]"
_TIME = f"T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.][0-9]{{1,6}})?)?(?:Z|[+ -]{_HOUR_MINUTE})?"
ISO_DATE = f"{_calendar_day('-')}(?:{_TIME})?"
"""An ISO 8601 date (midnight UTC) or date-time; every text it matches, :func:`parse_iso` reads."""
ISO_DATE_PATTERN = f"^{ISO_DATE}$"
