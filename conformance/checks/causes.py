"""Why nothing happened, read from the journal, so a check names the real cause before blaming logic.

A document never confirmed may be an integration that forgot to confirm, or one whose every call
was refused: status reports posted and answered 422, every API call answered 401, every token
refresh refused ``invalid_grant``. The checks call :func:`explain` before saying "never
processed" or "never refreshed", and :func:`refused_status_posts` to tell "never posted" from
"posted but refused".
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from conformance.observation import Observation


def _status_path(document: str) -> str:
    return f"/documents/{document}/status"


def refused_status_posts(observation: Observation, document: str | None = None) -> list[dict[str, Any]]:
    """The integration's ``POST /documents/{uuid}/status`` the mock refused (for one document, or all)."""
    return [
        e
        for e in observation.api_requests()
        if e.get("method") == "POST"
        and str(e.get("path", "")).startswith("/documents/")
        and str(e.get("path", "")).endswith("/status")
        and (document is None or e.get("path") == _status_path(document))
        and int(e.get("status") or 0) >= 400
    ]


def refusal_evidence(entry: dict[str, Any]) -> dict[str, Any]:
    evidence = {k: entry.get(k) for k in ("id", "method", "path", "status")}
    for key in ("problem", "auth_outcome", "oauth_error", "refresh_outcome", "retry_after"):
        if entry.get(key) is not None:
            evidence[key] = entry[key]
    return evidence


def _statuses(entries: list[dict[str, Any]]) -> str:
    """``422 ×2 ("success": must be a boolean), 401 ×1 (expired)``: each status with what the mock said first."""
    parts = []
    for status, count in Counter(e.get("status") for e in entries).most_common():
        first = next(e for e in entries if e.get("status") == status)
        said = first.get("problem") or first.get("oauth_error") or first.get("auth_outcome")
        parts.append(f"{status} ×{count}" + (f" ({str(said)[:160]})" if said else ""))
    return ", ".join(parts)


def describe_refused_posts(entries: list[dict[str, Any]]) -> str:
    return f"{len(entries)} status report(s) posted but refused: {_statuses(entries)}"


def _refreshes(observation: Observation) -> list[dict[str, Any]]:
    return [
        e for e in observation.api_requests() if e.get("kind") == "oauth" and e.get("grant_type") == "refresh_token"
    ]


def refused_refreshes(observation: Observation) -> str | None:
    """Every token refresh of the scenario refused, said with the OAuth error; None if one worked or none was made."""
    refreshes = _refreshes(observation)
    if not refreshes or any(e.get("status") == 200 for e in refreshes):
        return None
    errors = Counter(
        f"{e.get('status')} {e.get('oauth_error') or e.get('refresh_outcome') or ''}".strip() for e in refreshes
    )
    shown = ", ".join(f"{error} ×{count}" for error, count in errors.most_common())
    outcomes = sorted({str(e.get("refresh_outcome")) for e in refreshes if e.get("refresh_outcome")})
    detail = f"; the refresh tokens presented were {', '.join(outcomes)}" if outcomes else ""
    return f"it tried {len(refreshes)} token refresh(es) and every one was refused ({shown}){detail}"


def explain(observation: Observation, documents: list[str] | None = None) -> str | None:
    """What in the journal explains that the integration's work did not get done, or None when nothing does.

    ``documents`` narrows the status reports looked at to those documents.
    """
    causes: list[str] = []
    posts = [p for d in documents for p in refused_status_posts(observation, d)] if documents else []
    if documents is None:
        posts = refused_status_posts(observation)
    if posts:
        causes.append(describe_refused_posts(posts))
    api = [e for e in observation.api_requests() if e.get("kind") == "api"]
    if api and all(e.get("status") == 401 for e in api):
        outcomes = Counter(str(e.get("auth_outcome") or "refused") for e in api)
        shown = ", ".join(f"{o} ×{n}" for o, n in outcomes.most_common())
        causes.append(f"every one of its {len(api)} API call(s) was refused 401 ({shown})")
    elif api and all(e.get("status") == 429 for e in api):
        causes.append(f"every one of its {len(api)} API call(s) was refused 429 (rate limited)")
    refreshes = refused_refreshes(observation)
    if refreshes:
        causes.append(refreshes)
    if not api and not observation.downloads() and not causes:
        refused = [a.get("status") for d in observation.deliveries for a in d.get("attempts", [])
                   if isinstance(a.get("status"), int) and a["status"] >= 400]  # fmt: skip
        if refused:
            causes.append(f"it refused the deliveries ({_counted(refused)}) and made no API call")
        elif observation.deliveries:
            causes.append("it made no API call and downloaded nothing after the deliveries")
    return "; ".join(causes) or None


def _counted(values: list[Any]) -> str:
    return ", ".join(f"{v} ×{n}" for v, n in Counter(values).most_common())


def because(observation: Observation, documents: list[str] | None = None) -> str:
    """`` (the journal shows: ...)`` to append to a message, or "" when the journal explains nothing."""
    cause = explain(observation, documents)
    return f" (the journal shows: {cause})" if cause else ""
