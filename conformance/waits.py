"""Waits that ran out: what the integration did not do, by when, and how late it did it if it did.

A ``wait`` step that reaches its deadline leaves a :class:`MissedWait` on the Observation. Once the
scenario's evidence is gathered, :func:`resolve` finds when (if ever) the awaited thing happened,
and :func:`apply` fails every check of the scenario that the wait fed: without it, a check would
judge only the evidence that did arrive and could pass an integration that ignored the event
(a clinician's Synchronize with no second status report).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.checks.registry import CheckResult
from conformance.observation import Observation

FEEDS: dict[str, frozenset[str]] = {
    "status-reports": frozenset(
        {"always-confirm", "confirm-failure", "dedupe", "retry-recovery", "batch-events", "expired-url",
         "token-refresh", "pagination", "unusual-payloads"}
    ),
    "attempts": frozenset({"ack-within-5s", "retry-recovery", "signature"}),
    "deliveries-settled": frozenset({"retry-recovery", "dedupe"}),
    "downloads": frozenset({"anonymous-download", "confirm-failure", "expired-url"}),
    "requests": frozenset(),
    "idle": frozenset(),
}  # fmt: skip
"""The checks whose rule needs what each kind of wait awaits (a report must come, a document be imported):
those a missed wait fails. Checks that judge only what did come (``honest-confirm`` judges what a report
says, not that it came) are not listed: a missing report is ``always-confirm``'s failure, once."""
ACK_FED = frozenset({"ack-within-5s"})
"""What a wait for reports feeds when the documents' deliveries were never acknowledged."""


@dataclass
class MissedWait:
    step: int
    """1-based index of the wait step in its scenario."""
    until: str
    what: str
    """What was awaited, as a reader says it: "2 status report(s) (POST /documents/{uuid}/status) for ..."."""
    waited_s: float
    limit: str
    """The deadline that ended the wait (the step's timeout, the scenario's, the run's)."""
    deadline_wall: float
    documents: list[str] = field(default_factory=list)
    count: int = 1
    path: str = ""
    after: str | None = None
    """The event the awaited work follows (the last triggered for these documents)."""
    late_by_s: float | None = None
    """Resolved: how long after the deadline it came; None: it never came during the scenario."""
    missing: list[str] = field(default_factory=list)
    """Resolved: the documents for which it never came."""
    unacknowledged: bool = False
    """Resolved: every document it never came for was never acknowledged: the delivery is what failed."""
    problem: str = ""
    """The line the step added to the scenario's problems (replaced by :meth:`describe` once resolved)."""

    def describe(self) -> str:
        by = time.strftime("%H:%M:%S", time.gmtime(self.deadline_wall))
        head = f"step {self.step} waited {self.waited_s:g} s ({self.limit}) for {self.what}"
        if self.after:
            head += f" after {self.after}"
        if self.late_by_s is not None:
            return f"{head}: it came {self.late_by_s:.1f} s late"
        if self.until == "idle":
            return f"{head}: the integration was still busy at {by} UTC"
        if self.missing:
            shown = ", ".join(self.missing[:3]) + (f" (+{len(self.missing) - 3} more)" if len(self.missing) > 3 else "")
            unacked = " (their deliveries were never acknowledged 2xx)" if self.unacknowledged else ""
            return f"{head}: none came by {by} UTC for {len(self.missing)} document(s): {shown}{unacked}"
        return f"{head}: it had not happened by {by} UTC"

    def evidence(self) -> dict[str, Any]:
        facts = {k: v for k, v in asdict(self).items() if v not in (None, [], "") and k != "problem"}
        return {"missed_wait": self.describe(), **facts}


def _nth(walls: list[float], n: int) -> float | None:
    walls = sorted(walls)
    return walls[n - 1] if len(walls) >= n else None


def _satisfied_at(wait: MissedWait, observation: Observation) -> tuple[float | None, list[str]]:
    """When the awaited thing happened during the scenario (real time), and the documents it never did for."""
    per_document: dict[str, float | None] = {}
    if wait.until == "status-reports":
        for document in wait.documents:
            per_document[document] = _nth(
                [float(r.get("wall", 0)) for r in observation.reports_for(document)], wait.count
            )
    elif wait.until == "attempts":
        for document in wait.documents:
            walls = [
                _nth([float(a.get("wall", 0)) for a in d.get("attempts", [])], wait.count)
                for d in observation.deliveries
                if document in d.get("resource_ids", [])
            ]
            found = [w for w in walls if w is not None]
            per_document[document] = min(found) if found else None
    elif wait.until in ("downloads", "requests"):
        kind = "download" if wait.until == "downloads" else None
        entries = [e for e in observation.journal if kind is None or e.get("kind") == kind]
        seen = [float(e.get("wall", 0)) for e in entries if str(e.get("path", "")).startswith(wait.path)]
        return _nth(seen, wait.count), []
    else:
        return None, []
    missing = [d for d, at in per_document.items() if at is None]
    if missing or not per_document:
        return None, missing
    return max(at for at in per_document.values() if at is not None), []


def resolve(observation: Observation) -> None:
    """Fill in, for each missed wait, how late the awaited thing came, or for what it never did; the
    scenario's problems then say that instead of the bare "timed out". A wait whose awaited thing in
    fact happened by its deadline (after the last look, before the deadline) was met: it is dropped."""
    problems = observation.step_problems
    for wait in list(observation.missed_waits):
        at, wait.missing = _satisfied_at(wait, observation)
        if at is not None and at <= wait.deadline_wall:
            observation.missed_waits.remove(wait)
            if wait.problem in problems:
                problems.remove(wait.problem)
            continue
        acked = set(observation.delivered_documents())
        wait.unacknowledged = observation.mode == "webhook" and bool(wait.missing) and not acked & set(wait.missing)
        wait.late_by_s = round(at - wait.deadline_wall, 1) if at is not None else None
        if wait.problem in problems:
            problems[problems.index(wait.problem)] = wait.describe()


def _fed(wait: MissedWait) -> frozenset[str]:
    """The checks a missed wait fails: a report never came because its delivery was refused is the ack's failure."""
    return ACK_FED if wait.unacknowledged else FEEDS.get(wait.until, frozenset())


def apply(observation: Observation, results: list[CheckResult]) -> list[CheckResult]:
    """Fail each check a missed wait fed (keeping a failure's own message, adding the wait to its evidence)."""
    out = []
    for result in results:
        missed = [w for w in observation.missed_waits if result.check in _fed(w)]
        if not missed:
            out.append(result)
        elif result.status == "failed":
            out.append(CheckResult(result.check, "failed", result.message,
                                   [*result.evidence, *(w.evidence() for w in missed)], result.scenario))  # fmt: skip
        else:
            message = "; ".join(w.describe() for w in missed)
            if result.status == "passed":
                message += f" (what did arrive passed: {result.message})"
            out.append(CheckResult(result.check, "failed", message, [w.evidence() for w in missed], result.scenario))
    return out
