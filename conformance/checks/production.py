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


@check("unknown-inert", "an unknown event about a real document causes nothing: no download, no status report")
def unknown_inert(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    sends = [s for s in observation.raw_sends if s.get("unknown")]
    named = sorted({r for s in sends for r in s.get("resources", []) if r in observation.unannounced})
    if not named:
        return skip("no unknown event named a real document in this scenario")
    acted = []
    for document in named:
        downloads, reports = observation.downloads(document), observation.reports_for(document)
        calls = [e for e in observation.api_requests() if document in str(e.get("path", ""))]
        if downloads or reports or calls:
            acted.append({"document": document, "downloads": [d.get("id") for d in downloads],
                          "status_reports": [r.get("id") for r in reports],
                          "api_calls": [f"{e.get('method')} {e.get('path')}" for e in calls]})  # fmt: skip
    if acted:
        what = "downloaded its PDF" if acted[0]["downloads"] else "sent a status report or called the API about it"
        return (
            "failed",
            f"an unknown event ({', '.join(sorted({a for s in sends for a in s.get('actions', [])}))}) named "
            f"document {acted[0]['document']} and the integration {what}: act only on new_document, "
            "document_synchronize and new_note; acknowledge anything else and do nothing",
            acted,
        )
    return "passed", f"{len(named)} real document(s) named by unknown events; none was touched", []


TRANSIENT = (429, 500, 502, 503, 504)


@check("transient-errors", "a call answered 429 or 5xx is retried (after Retry-After) until it succeeds")
def transient_errors(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    requests = sorted((e for e in observation.api_requests() if e.get("kind") == "api"), key=lambda e: e.get("wall", 0))
    refused = [e for e in requests if e.get("status") in TRANSIENT]
    if not refused:
        return skip("no API call of the integration was answered 429 or 5xx in this scenario")
    abandoned = []
    for entry in refused:
        call = (entry.get("method"), entry.get("path"))
        later = [
            e for e in requests if (e.get("method"), e.get("path")) == call and e.get("wall", 0) > entry.get("wall", 0)
        ]
        if not any(isinstance(e.get("status"), int) and e["status"] < 400 for e in later):
            abandoned.append({"request": entry.get("id"), "method": call[0], "path": call[1],
                              "status": entry.get("status"), "retry_after": entry.get("retry_after"),
                              "tries_after": len(later)})  # fmt: skip
    if abandoned:
        first = abandoned[0]
        tried = f"tried {first['tries_after']} more time(s) and gave up" if first["tries_after"] else "never sent again"
        return (
            "failed",
            f"{first['method']} {first['path']} answered {first['status']} and was {tried}: a 429 or 5xx is "
            "temporary; wait (Retry-After on a 429, a growing backoff on a 5xx) and send it again until it is "
            "accepted, or the work is lost",
            abandoned,
        )
    return "passed", f"{len(refused)} call(s) answered 429/5xx, each retried until accepted", []


SPENT = ("reused_spent_token", "revoked")


@check("restart-state", "after a restart the integration still knows what it imported and its newest refresh token")
def restart_state(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    if not observation.restarts:
        return skip("the integration was not restarted in this scenario")
    restarted = min(observation.restarts)
    problems = []
    for document in observation.delivered_documents():
        before = [
            r for r in observation.reports_for(document) if r.get("success") is True and r.get("wall", 0) < restarted
        ]
        again = [d for d in observation.complete_downloads(document) if d.get("wall", 0) > restarted]
        if before and again:
            problems.append({"document": document, "problem": "imported before the restart and again after it",
                             "downloads_after_restart": [d.get("id") for d in again]})  # fmt: skip
    spent = [
        e for e in observation.api_requests()
        if e.get("grant_type") == "refresh_token" and e.get("wall", 0) > restarted
        and e.get("refresh_outcome") in SPENT
    ]  # fmt: skip
    if spent:
        requests = [{"request": e.get("id"), "outcome": e.get("refresh_outcome")} for e in spent]
        problems.append({"problem": "presented a spent refresh token after the restart", "requests": requests})
    if problems:
        hint = (
            "keep the set of imported uuids on disk (or in the database), not only in memory"
            if "document" in problems[0]
            else "store each new refresh token durably the moment it is issued, and read it back at start-up "
            "(the one the integration was configured with is spent after its first refresh)"
        )
        return "failed", f"{problems[0]['problem']}: {hint}", problems
    return "passed", "after the restart nothing was imported twice and the newest refresh token was used", []
