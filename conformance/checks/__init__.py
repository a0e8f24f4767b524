"""The conformance checks: small registered functions, each judging one rule from an Observation.

Every check returns passed, failed (with the reason and the evidence) or skipped (with why the
scenario gave it nothing to judge). A check never passes for lack of evidence it needed.
Importing this package registers them all, in the order of the design's table.
"""

from conformance.checks import auth, deliveries, imports, polling, production, requests  # noqa: F401 - registers the checks
from conformance.checks.registry import CHECKS, CheckResult, CheckSpec, Status, judge
from conformance.vocabulary import CHECK_IDS

ORDER = CHECK_IDS  # the documented order, defined once in conformance.vocabulary
assert set(ORDER) == set(CHECKS), sorted(set(ORDER) ^ set(CHECKS))
for _id in ORDER:  # re-insert in the documented order (dicts keep insertion order)
    CHECKS[_id] = CHECKS.pop(_id)

__all__ = ["CHECKS", "CheckResult", "CheckSpec", "Status", "judge"]
