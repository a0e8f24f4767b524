"""The conformance checks: small registered functions, each judging one rule from an Observation.

Every check returns passed, failed (with the reason and the evidence) or skipped (with why the
scenario gave it nothing to judge). A check never passes for lack of evidence it needed.
Importing this package registers them all, in the order of the design's table.
"""

from conformance.checks import auth, deliveries, imports, polling, requests  # noqa: F401 - registers the checks
from conformance.checks.registry import CHECKS, CheckResult, CheckSpec, Status, judge

ORDER = (
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
)
assert set(ORDER) == set(CHECKS), sorted(set(ORDER) ^ set(CHECKS))
for _id in ORDER:  # re-insert in the documented order (dicts keep insertion order)
    CHECKS[_id] = CHECKS.pop(_id)

__all__ = ["CHECKS", "CheckResult", "CheckSpec", "Status", "judge"]
