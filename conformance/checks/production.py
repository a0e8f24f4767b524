"""Checks on what production punishes and a local run hides: a Synchronize after a failed import,
unknown events about real documents, transient API failures, state lost across a restart.

Each names the rule it judges and skips, with the reason, when the scenario gave it nothing to judge.
"""

from __future__ import annotations

from typing import Any

from conformance.checks.registry import Status, check, skip
from conformance.observation import Observation


def _first_ack(observation: Observation, delivery: dict[str, Any]) -> float | None:
    walls = [float(a.get("wall", 0)) for a in observation.acked_attempts(delivery)]
    return min(walls) if walls else None


def _synchronized_after_failure(observation: Observation) -> list[tuple[str, dict[str, Any], float]]:
    """(document, synchronize delivery, when it was acknowledged) for documents reported failed before it."""
    found = []
    for delivery in observation.deliveries_with_action("document_synchronize"):
        acked = _first_ack(observation, delivery)
        if acked is None or observation.forged(delivery):
            continue
        for document, action in zip(delivery.get("resource_ids", []), delivery.get("actions", []), strict=False):
            failed_before = [
                r
                for r in observation.reports_for(document)
                if r.get("success") is False and float(r.get("wall", 0)) <= acked
            ]
            if action == "document_synchronize" and failed_before:
                found.append((document, delivery, acked))
    return found


@check("synchronize-retry", "a document whose import failed is imported when the clinician presses Synchronize")
def synchronize_retry(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    cases = _synchronized_after_failure(observation)
    if not cases:
        return skip("no document_synchronize was delivered for a document reported failed in this scenario")
    problems = []
    for document, delivery, acked in cases:
        if any(r.get("success") is True and float(r.get("wall", 0)) > acked for r in observation.reports_for(document)):
            continue
        downloads = [d for d in observation.downloads(document) if float(d.get("wall", 0)) > acked]
        problem = (
            "the import was tried again but not confirmed with success: true"
            if downloads
            else "the PDF was not downloaded again after the Synchronize"
        )
        problems.append({"document": document, "delivery": delivery.get("id"), "problem": problem,
                         "downloads_after": len(downloads)})  # fmt: skip
    if problems:
        return (
            "failed",
            f"document {problems[0]['document']} was reported success: false, the clinician pressed Synchronize "
            f"(document_synchronize delivered), and {problems[0]['problem']}: handle document_synchronize like "
            "new_document, and deduplicate only what was imported, never a document whose import failed",
            problems,
        )
    return "passed", f"{len(cases)} failed import(s) retried on Synchronize and confirmed success: true", []
