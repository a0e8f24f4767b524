"""Checks on how the integration uses the API: tokens, refresh rotation, stale tokens, rate limit, scopes.

They read the notes the mock leaves on its journal entries: ``refresh_outcome`` (and the lengths
of a truncated refresh token) on token requests, ``revoked_access_jti`` / ``issued_access_jti``
on a rotation, and on a refused API call ``auth_outcome`` with the token's ``token_jti`` and
``token_replaced_by``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from typing import Any

from conformance.checks.causes import because
from conformance.checks.registry import Status, check, skip
from conformance.observation import Observation

TOKEN_LIFETIME = 3600.0
SPENT_OUTCOMES = ("reused_spent_token", "revoked")


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
    after = [e for e in observation.api_requests() if e.get("at", 0) >= expired_at]
    if not after:
        return skip("the integration made no API call after the access tokens expired: nothing needed a refresh")
    if not refreshed:
        refused = [e for e in _refreshes(observation) if e.get("at", 0) >= expired_at]
        if refused:
            why = sorted({_refusal(e) for e in refused})
            return (
                "failed",
                f"tokens expired and the integration tried to refresh {len(refused)} time(s), but every "
                f"refresh was refused: {'; '.join(why)}",
                [_refresh_evidence(e) for e in refused[:10]],
            )
        if not unauthorized:
            return skip(f"no call of the integration met an expired access token ({len(after)} call(s) after expiry)")
        return (
            "failed",
            f"tokens expired and the integration got {len(unauthorized)} × 401, but never tried to refresh "
            "its access token (POST /oauth2/token grant_type=refresh_token)",
            [{"request": e.get("id"), "path": e.get("path"), "status": e.get("status")} for e in unauthorized[:10]],
        )
    if not confirmed:
        return (
            "failed",
            "the integration refreshed its token but did not get on with the work (no status report)"
            + because(observation),
            [],
        )
    return "passed", f"refreshed {len(refreshed)} time(s) after expiry; work went on", []


@check("refresh-rotation", "after a refresh the integration uses the new refresh token, never the spent one")
def refresh_rotation(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    refreshes = _refreshes(observation)
    if not refreshes:
        return skip("the integration did not refresh a token in this scenario")
    truncated = [e for e in refreshes if e.get("refresh_outcome") == "truncated"]
    if truncated:
        return "failed", _truncation_message(truncated[0]), [_refresh_evidence(e) for e in truncated]
    reused = [e for e in refreshes if e.get("refresh_outcome") in SPENT_OUTCOMES]
    if reused:
        return (
            "failed",
            "presented a refresh token that was already spent: Askara treats that as theft and revokes "
            "every token of the family. Keep the newest refresh token after each refresh.",
            [{"request": e.get("id"), "outcome": e.get("refresh_outcome"), "status": e.get("status")} for e in reused],
        )
    rotated = [e for e in refreshes if e.get("refresh_outcome") == "rotated"]
    others = sorted({str(e.get("refresh_outcome")) for e in refreshes if e.get("refresh_outcome") != "rotated"})
    if not rotated:
        return skip(f"no refresh of the integration rotated a token (outcomes: {', '.join(others)}): nothing to judge")
    refused = f"; {len(refreshes) - len(rotated)} refused for other reasons ({', '.join(others)})" if others else ""
    return "passed", f"{len(rotated)} refreshes, each with the newest refresh token{refused}", []


def _truncation_message(entry: dict[str, Any]) -> str:
    presented, issued = entry.get("refresh_presented_length"), entry.get("refresh_issued_length")
    return (
        f"presented a refresh token truncated to {presented} characters (the mock issued it with {issued}): "
        "it was stored cut short, as a VARCHAR(255) column does. league's refresh tokens are several hundred "
        "characters; store them whole (TEXT)."
    )


def _refusal(entry: dict[str, Any]) -> str:
    if entry.get("refresh_outcome") == "truncated":
        return _truncation_message(entry)
    error = f" {entry['oauth_error']}" if entry.get("oauth_error") else ""
    said = f": {entry['problem']}" if entry.get("problem") else ""
    return f"HTTP {entry.get('status')}{error} (refresh_outcome {entry.get('refresh_outcome')}){said}"


def _refresh_evidence(entry: dict[str, Any]) -> dict[str, Any]:
    evidence = {"request": entry.get("id"), "outcome": entry.get("refresh_outcome"), "status": entry.get("status")}
    for key in ("oauth_error", "refresh_presented_length", "refresh_issued_length"):
        if key in entry:
            evidence[key] = entry[key]
    return evidence


def _descendants(rotations: list[dict[str, Any]]) -> dict[str, set[str]]:
    """For each access token a refresh replaced, every token issued after it in its chain."""
    successor = {str(e["revoked_access_jti"]): str(e["issued_access_jti"]) for e in rotations}
    chains: dict[str, set[str]] = {}
    for old in successor:
        seen: set[str] = set()
        current = old
        while current in successor and successor[current] not in seen:
            current = successor[current]
            seen.add(current)
        chains[old] = seen
    return chains


@check("stale-token", "after a refresh no call presents the access token it replaced (league revokes it at once)")
def stale_token(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    """A 401 for a replaced token counts only once the integration had already used a newer one.

    A request in flight while another worker refreshes may meet the revoked token too; it was sent
    before the integration knew the new token. Once a newer token answered a call, every worker
    should have been using it.
    """
    rotations = [
        e
        for e in _refreshes(observation)
        if e.get("status") == 200 and e.get("revoked_access_jti") and e.get("issued_access_jti")
    ]
    if not rotations:
        return skip("no refresh replaced an access token in this scenario")
    requests = observation.api_requests()
    first_use: dict[str, float] = {}
    for e in requests:
        jti = e.get("token_jti")
        if jti and e.get("status") != 401 and e.get("auth_outcome") is None:
            first_use[jti] = min(first_use.get(jti, float("inf")), float(e.get("wall", 0)))
    chains = _descendants(rotations)
    stale = []
    for e in requests:
        if e.get("status") != 401 or e.get("auth_outcome") != "revoked_by_refresh":
            continue
        arrived = float(e.get("wall", 0)) - float(e.get("latency_ms") or 0) / 1000
        used = [first_use[j] for j in chains.get(str(e.get("token_jti")), set()) if j in first_use]
        if used and min(used) <= arrived:
            stale.append(
                {
                    "request": e.get("id"),
                    "method": e.get("method"),
                    "path": e.get("path"),
                    "token_jti": str(e.get("token_jti"))[:16],
                    "newer_token_used_s_before": round(arrived - min(used), 3),
                }
            )
    if stale:
        return (
            "failed",
            f"{len(stale)} call(s) presented an access token a refresh had already replaced, after the "
            "integration had used the new one: league/oauth2-server revokes the old access token on every "
            "refresh, so every worker must take the newest token from one shared store",
            stale,
        )
    return "passed", f"{len(rotations)} refresh(es); no call presented an access token a refresh had replaced", []


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
        total = sum(int(p["requests_before_retry_after"] or 0) for p in problems)
        return (
            "failed",
            f"{total} requests sent before Retry-After had elapsed ({len(limited)} × 429): wait "
            "Retry-After seconds (or until x-ratelimit-reset) before calling again",
            problems,
        )
    return "passed", f"{len(limited)} × 429, each waited out", []


@check("scopes", "the token asks for the scopes the integration needs")
def scopes(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    calls = [e for e in observation.api_requests() if e.get("kind") == "api"]
    if not calls:
        return skip("the integration made no API call in this scenario")
    requests = [e for e in calls if e.get("status") != 401]  # a 401 is refused before any scope is looked at
    if not requests:
        return skip(f"every one of its {len(calls)} API call(s) was refused 401, before a scope was looked at")
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
