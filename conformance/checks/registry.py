"""The check registry: ``@check(id, title)`` registers a judge of one rule; ``judge`` runs it.

Every check returns passed, failed (with the reason and the evidence) or skipped (with why the
scenario gave it nothing to judge). A check never passes for lack of evidence it needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.observation import ACK_LIMIT_MS, Observation
from conformance.vocabulary import CHECK_IDS

Status = Literal["passed", "failed", "skipped"]


@dataclass
class CheckResult:
    check: str
    status: Status
    message: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    scenario: str = ""


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    judge: Callable[[Observation], tuple[Status, str, list[dict[str, Any]]]]


CHECKS: dict[str, CheckSpec] = {}


def check(check_id: str, title: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[[Observation], tuple[Status, str, list[dict[str, Any]]]]) -> Callable[..., Any]:
        if check_id in CHECKS:
            raise TypeError(f"check {check_id!r} registered twice")
        if check_id not in CHECK_IDS:
            raise TypeError(f"check {check_id!r} is not in conformance.vocabulary.CHECK_IDS")
        CHECKS[check_id] = CheckSpec(check_id, title, fn)
        return fn

    return register


def judge(check_id: str, observation: Observation) -> CheckResult:
    status, message, evidence = CHECKS[check_id].judge(observation)
    if status == "failed" and observation.integration_exit is not None:
        message += f" (the integration exited with code {observation.integration_exit} during the scenario)"
    return CheckResult(check_id, status, message, evidence, observation.scenario)


def skip(reason: str) -> tuple[Status, str, list[dict[str, Any]]]:
    return "skipped", reason, []


def attempt_evidence(delivery: dict[str, Any], attempt: dict[str, Any]) -> dict[str, Any]:
    return {
        "delivery": delivery.get("id"),
        "attempt": attempt.get("n"),
        "actions": delivery.get("actions"),
        "resources": delivery.get("resource_ids"),
        "status": attempt.get("status"),
        "latency_ms": attempt.get("latency_ms"),
        "failure": attempt.get("failure"),
        "response_body": (attempt.get("response_body") or "")[:200],
    }


def late_or_refused(observation: Observation, deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bad = []
    for delivery in deliveries:
        if observation.forged(delivery):
            continue
        for attempt in delivery.get("attempts", []):
            status = attempt.get("status")
            late = (attempt.get("latency_ms") or 0) >= ACK_LIMIT_MS or attempt.get("failure") == "timeout"
            if late or not (isinstance(status, int) and 200 <= status < 300):
                bad.append(attempt_evidence(delivery, attempt))
    return bad
