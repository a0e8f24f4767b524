"""Checks on how the integration uses the API: tokens, refresh rotation, rate limit, scopes."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from typing import Any

from conformance.checks.registry import Status, check, skip
from conformance.observation import Observation

TOKEN_LIFETIME = 3600.0


def _expiry_moment(observation: Observation) -> float | None:
    """Mock time at which access tokens first expired in this scenario, if they did."""
    moments = [float(f.record.get("created_at", 0)) for f in observation.faults_of("expire_tokens")]
    moments += [at for seconds, at in observation.clock_jumps_at if seconds >= TOKEN_LIFETIME]
    return min(moments) if moments else None


def _refreshes(observation: Observation) -> list[dict[str, Any]]:
    return [e for e in observation.journal if e.get("kind") == "oauth" and e.get("grant_type") == "refresh_token"]


@check("token-refresh", "an expired access token is refreshed, and work goes on")
def token_refresh(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    expired_at = _expiry_moment(observation)
    if expired_at is None:
        return skip("no access token expired in this scenario")
    unauthorized = [e for e in observation.api_requests() if e.get("status") == 401 and e.get("at", 0) >= expired_at]
    refreshed = [e for e in _refreshes(observation) if e.get("status") == 200 and e.get("at", 0) >= expired_at]
    confirmed = [r for r in observation.reports if r.get("success") is not None and r.get("at", 0) >= expired_at]
    if not refreshed:
        return (
            "failed",
            f"tokens expired and the integration got {len(unauthorized)} × 401, but never refreshed "
            "its access token (POST /oauth2/token grant_type=refresh_token)",
            [{"request": e.get("id"), "path": e.get("path"), "status": e.get("status")} for e in unauthorized[:10]],
        )
    if not confirmed:
        return "failed", "the integration refreshed its token but did not get on with the work (no status report)", []
    return "passed", f"refreshed {len(refreshed)} time(s) after expiry; work went on", []


@check("refresh-rotation", "after a refresh the integration uses the new refresh token, never the spent one")
def refresh_rotation(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    refreshes = _refreshes(observation)
    if not refreshes:
        return skip("the integration did not refresh a token in this scenario")
    reused = [e for e in refreshes if e.get("refresh_outcome") in ("reused_spent_token", "revoked")]
    if reused:
        return (
            "failed",
            "presented a refresh token that was already spent: Askara treats that as theft and revokes "
            "every token of the family. Keep the newest refresh token after each refresh.",
            [{"request": e.get("id"), "outcome": e.get("refresh_outcome"), "status": e.get("status")} for e in reused],
        )
    return "passed", f"{len(refreshes)} refreshes, each with the newest refresh token", []


@check("rate-limit", "on 429 the integration waits as the headers say instead of hammering")
def rate_limit(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    requests = sorted(observation.api_requests(), key=lambda e: e.get("wall", 0))
    limited = [e for e in requests if e.get("status") == 429]
    if not limited:
        return skip("the integration was never rate limited in this scenario")
    problems = []
    # Walls per bucket, sorted: counting by bisection keeps a flood (10k journal entries) linear-ish.
    walls: dict[Any, list[float]] = defaultdict(list)
    for e in requests:
        walls[e.get("bucket")].append(e.get("wall", 0))
    for entry in limited:
        until = entry.get("wall", 0) + float(entry.get("retry_after") or 1) * 0.9
        same = walls[entry.get("bucket")]
        early = bisect_left(same, until) - bisect_right(same, entry.get("wall", 0))
        if early > 0:
            problems.append(
                {
                    "429": entry.get("id"),
                    "retry_after": entry.get("retry_after"),
                    "requests_before_retry_after": early,
                }
            )
    if problems:
        total = sum(p["requests_before_retry_after"] for p in problems)
        return (
            "failed",
            f"{total} requests sent before Retry-After had elapsed ({len(limited)} × 429): wait "
            "Retry-After seconds (or until x-ratelimit-reset) before calling again",
            problems,
        )
    return "passed", f"{len(limited)} × 429, each waited out", []


@check("scopes", "the token asks for the scopes the integration needs")
def scopes(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    requests = [e for e in observation.api_requests() if e.get("kind") == "api"]
    if not requests:
        return skip("the integration made no API call in this scenario")
    forbidden = [e for e in requests if e.get("status") == 403]
    if forbidden:
        paths = sorted({f"{e.get('method')} {e.get('path')}" for e in forbidden})
        return (
            "failed",
            f"{len(forbidden)} calls refused with 403 (missing scope) on {', '.join(paths[:3])}: request "
            "read:documents, write:document_integrations and read:notes",
            [{"request": e.get("id"), "path": e.get("path")} for e in forbidden],
        )
    return "passed", f"{len(requests)} API calls, none refused for a missing scope", []
