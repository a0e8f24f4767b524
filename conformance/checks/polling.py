"""Checks for integrations that poll instead of receiving webhooks."""

from __future__ import annotations

from typing import Any

from conformance.checks.registry import Status, check, skip
from conformance.checks.requests import describe
from conformance.observation import Observation

MIN_CYCLES = 3
"""One or two polls say nothing about an interval: an integration polling every 5 s passes one cycle."""


@check("pagination", "a polling integration reads every page of GET /documents?synchronized=false")
def pagination(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    if observation.mode != "polling":
        return skip("the integration is not polling")
    refused = [e for e in observation.api_requests()
               if e.get("path") == "/documents" and e.get("method") == "GET" and e.get("status") == 400]  # fmt: skip
    if refused:
        return (
            "failed",
            f"{len(refused)} poll(s) of GET /documents refused with 400, e.g. {describe(refused[0])}: send the "
            "filters as the mock says (Askara may silently drop a filter it cannot read and return every document)",
            [{"request": e.get("id"), "query": e.get("query"), "mock_said": e.get("problem")} for e in refused[:20]],
        )
    expected = [t["resource"] for t in observation.triggered if t["action"] == "new_document"]
    if len(expected) <= 100:
        return skip("fewer than one full page of unsynchronized documents")
    missing = [d for d in expected if not observation.reports_for(d)]
    pages = sorted({e.get("query", "") for e in observation.api_requests() if e.get("path") == "/documents"})
    if missing:
        return (
            "failed",
            f"{len(missing)} of {len(expected)} unsynchronized documents never imported: read every page "
            "(follow view.next or page=N until a short page). A confirmed document leaves synchronized=false, "
            "so confirming while paging shifts the later pages: read every page before confirming, or start "
            "again from page 1 until a poll comes back empty",
            [{"queries": pages[:20]}],
        )
    return "passed", f"all {len(expected)} documents imported across pages", []


@check("polling-interval", "a polling integration asks no more often than every 30 s")
def polling_interval(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    if observation.mode != "polling":
        return skip("the integration is not polling")
    polls = sorted(
        (
            e
            for e in observation.api_requests()
            if e.get("path") == "/documents" and e.get("method") == "GET" and _page(e) in ("", "1")
        ),
        key=lambda e: e.get("wall", 0),
    )
    if not polls:
        return "failed", "the integration never polled GET /documents", []
    gaps = [round(b.get("wall", 0) - a.get("wall", 0), 2) for a, b in zip(polls, polls[1:], strict=False)]
    short = [g for g in gaps if g < 29.5]
    if short:
        return (
            "failed",
            f"polled again after {min(short)} s (recommended 30-60 s); {len(polls)} poll cycles",
            [{"gaps_s": gaps[:20]}],
        )
    if len(polls) < MIN_CYCLES:
        return skip(
            f"only {len(polls)} poll cycle(s) seen, none too close; judging the interval needs at least "
            f"{MIN_CYCLES} (a scenario that watches for more than {30 * (MIN_CYCLES - 1)} s)"
        )
    return "passed", f"{len(polls)} poll cycle(s), no two closer than 30 s", [{"gaps_s": gaps}]


def _page(entry: dict[str, Any]) -> str:
    """The page number a collection request asked for ("" when none: the first page)."""
    for part in entry.get("query", "").split("&"):
        if part.startswith("page="):
            return part.removeprefix("page=")
    return ""
