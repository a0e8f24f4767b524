"""The check ids, defined once and in the order reports list them: the registry, scenario files, reports
and tests all name checks from here.

A check may be registered only under an id listed here, and every id here must be registered
(``tests/test_layers.py``), so a renamed check cannot leave a scenario naming a ghost.
"""

from __future__ import annotations

from typing import Final

CHECK_IDS: Final = (
    "ack-within-5s",
    "dedupe",
    "always-confirm",
    "confirm-failure",
    "retry-recovery",
    "expired-url",
    "token-refresh",
    "rate-limit",
    "scopes",
    "batch-events",
    "unknown-events",
    "note-events",
    "honest-confirm",
    "anonymous-download",
    "refresh-rotation",
    "stale-token",
    "pagination",
    "polling-interval",
    "signature",
    "unusual-payloads",
    "routes",
    "synchronize-retry",
    "unknown-inert",
    "transient-errors",
    "restart-state",
)
