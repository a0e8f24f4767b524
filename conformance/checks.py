"""The conformance checks: small registered functions, each judging one rule from an Observation.

Every check returns passed, failed (with the reason and the evidence) or skipped (with why the
scenario gave it nothing to judge). A check never passes for lack of evidence it needed.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.observation import ACK_LIMIT_MS, Observation

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
TOKEN_LIFETIME = 3600.0


def check(check_id: str, title: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[[Observation], tuple[Status, str, list[dict[str, Any]]]]) -> Callable[..., Any]:
        if check_id in CHECKS:
            raise TypeError(f"check {check_id!r} registered twice")
        CHECKS[check_id] = CheckSpec(check_id, title, fn)
        return fn

    return register


def judge(check_id: str, observation: Observation) -> CheckResult:
    status, message, evidence = CHECKS[check_id].judge(observation)
    if status == "failed" and observation.integration_exit is not None:
        message += f" (the integration exited with code {observation.integration_exit} during the scenario)"
    return CheckResult(check_id, status, message, evidence, observation.scenario)


def _skip(reason: str) -> tuple[Status, str, list[dict[str, Any]]]:
    return "skipped", reason, []


def _attempt_evidence(delivery: dict[str, Any], attempt: dict[str, Any]) -> dict[str, Any]:
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


def _late_or_refused(observation: Observation, deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bad = []
    for delivery in deliveries:
        if observation.forged(delivery):
            continue
        for attempt in delivery.get("attempts", []):
            status = attempt.get("status")
            late = (attempt.get("latency_ms") or 0) >= ACK_LIMIT_MS or attempt.get("failure") == "timeout"
            if late or not (isinstance(status, int) and 200 <= status < 300):
                bad.append(_attempt_evidence(delivery, attempt))
    return bad


@check("ack-within-5s", "every delivery is answered 2xx within 5 s")
def ack_within_5s(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    attempts = [a for d in observation.deliveries if not observation.forged(d) for a in d.get("attempts", [])]
    if not attempts:
        return _skip("no delivery reached the integration in this scenario")
    bad = _late_or_refused(observation, observation.deliveries)
    if bad:
        worst = bad[0]
        return (
            "failed",
            f"{len(bad)} of {len(attempts)} delivery attempts were not answered 2xx within 5 s "
            f"(first: status {worst['status']}, {worst['latency_ms']} ms, failure {worst['failure']}). "
            "Answer 200 at once and do the work afterwards.",
            bad,
        )
    slowest = max(a.get("latency_ms") or 0 for a in attempts)
    return "passed", f"{len(attempts)} attempts answered 2xx; slowest {slowest:.0f} ms", []


def _import_violations(observation: Observation, document: str) -> list[dict[str, Any]]:
    """Ways a document was imported more than once: a download after a confirmed import, or two successes."""
    reports = observation.reports_for(document)
    successes = [r for r in reports if r.get("success") is True]
    problems: list[dict[str, Any]] = []
    if len(successes) > 1:
        problems.append(
            {
                "document": document,
                "problem": f"{len(successes)} success reports (imported {len(successes)} times)",
                "reports": [r.get("id") for r in successes],
            }
        )
    if successes:
        first = min(r.get("wall", 0) for r in successes)
        later = [d for d in observation.complete_downloads(document) if d.get("wall", 0) > first]
        if later:
            problems.append(
                {
                    "document": document,
                    "problem": "PDF downloaded again after the import was confirmed",
                    "downloads": [d.get("id") for d in later],
                }
            )
        regressions = [r for r in reports if r.get("success") is False and r.get("wall", 0) > first]
        if regressions:
            problems.append(
                {
                    "document": document,
                    "problem": "a failure reported after a confirmed success",
                    "reports": [r.get("id") for r in regressions],
                }
            )
    return problems


@check("dedupe", "a repeated delivery of the same event does not import twice")
def dedupe(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    receipts = observation.receipts()
    documents = [d for d in observation.delivered_documents() if receipts.get(d, 0) > 1]
    if not documents:
        return _skip("no document reached the integration more than once in this scenario")
    problems = [p for d in documents for p in _import_violations(observation, d)]
    unconfirmed = [d for d in documents if not observation.reports_for(d)]
    if problems:
        return (
            "failed",
            f"{problems[0]['problem']} for document {problems[0]['document']}: deduplicate by uuid",
            problems,
        )
    if unconfirmed:
        return (
            "failed",
            f"{len(unconfirmed)} repeated documents were never confirmed, so dedupe cannot be shown",
            [{"document": d} for d in unconfirmed],
        )
    return "passed", f"{len(documents)} documents delivered more than once, each imported once", []


@check("retry-recovery", "after the endpoint failed and the mock retried, the document is imported once")
def retry_recovery(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    retried = [
        d
        for d in observation.deliveries
        if not observation.forged(d)
        and len(d.get("attempts", [])) > 1
        and any(a.get("failure") for a in d["attempts"][:-1])
    ]
    if not retried:
        return _skip("no delivery needed a retry in this scenario")
    problems: list[dict[str, Any]] = []
    for delivery in retried:
        if delivery.get("state") != "delivered":
            problems.append(
                {
                    "delivery": delivery.get("id"),
                    "problem": f"never recovered (state {delivery.get('state')})",
                    "attempts": [_attempt_evidence(delivery, a) for a in delivery["attempts"]],
                }
            )
            continue
        for resource, action in zip(delivery.get("resource_ids", []), delivery.get("actions", []), strict=False):
            if action in ("new_document", "document_synchronize"):
                problems.extend(_import_violations(observation, resource))
                if not observation.reports_for(resource):
                    problems.append({"document": resource, "problem": "not confirmed after the retry"})
    if problems:
        first = problems[0]
        return (
            "failed",
            f"{first.get('problem')} ({first.get('document') or first.get('delivery')}): an event retried "
            "after a failed or lost answer must still be imported exactly once",
            problems,
        )
    return "passed", f"{len(retried)} retried deliveries, each imported once", []


@check("always-confirm", "every delivered document gets a status report")
def always_confirm(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    documents = (
        observation.delivered_documents()
        if observation.mode == "webhook"
        else [t["resource"] for t in observation.triggered if t["action"] == "new_document"]
    )
    if not documents:
        return _skip("no document was delivered to the integration in this scenario")
    missing = [d for d in documents if not observation.reports_for(d)]
    if missing:
        return (
            "failed",
            f"{len(missing)} of {len(documents)} delivered documents got no POST /documents/{{uuid}}/status: "
            "always confirm, success or failure",
            [{"document": d, "downloads": len(observation.downloads(d))} for d in missing],
        )
    return "passed", f"all {len(documents)} delivered documents were confirmed", []


def _download_faulted(observation: Observation) -> list[str]:
    return [f.document for f in observation.faults_of("download") if f.document]


@check("confirm-failure", "when the import cannot succeed, the report says success: false with an error")
def confirm_failure(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    documents = _download_faulted(observation)
    if not documents:
        return _skip("no import was made to fail in this scenario")
    problems = []
    for document in documents:
        reports = observation.reports_for(document)
        failures = [r for r in reports if r.get("success") is False]
        if not reports:
            problems.append({"document": document, "problem": "no status report at all after the download failed"})
        elif not failures:
            problems.append({"document": document, "problem": "only success reports, though the download failed"})
        elif not any((r.get("error") or "").strip() for r in failures):
            problems.append({"document": document, "problem": "success: false without an error message"})
    if problems:
        return "failed", f"{problems[0]['problem']} (document {problems[0]['document']})", problems
    return "passed", f"{len(documents)} failed imports reported with success: false and an error", []


@check("honest-confirm", "success: true is never reported for a document whose PDF was not downloaded whole")
def honest_confirm(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    successes = [r for r in observation.reports if r.get("success") is True]
    if not successes and not _download_faulted(observation):
        return _skip("no document was confirmed in this scenario")
    problems = []
    for report in successes:
        document = report.get("document_uuid", "")
        whole = [
            d for d in observation.complete_downloads(document) if d.get("wall", 0) <= report.get("wall", 0) + 0.001
        ]
        if not whole:
            attempts = observation.downloads(document)
            problems.append(
                {
                    "document": document,
                    "report": report.get("id"),
                    "problem": "success: true without a whole PDF download before it",
                    "downloads": [
                        {
                            "status": d.get("status"),
                            "complete": d.get("download_complete"),
                            "bytes": d.get("download_bytes"),
                        }
                        for d in attempts
                    ],
                }
            )
    if problems:
        return (
            "failed",
            f"{problems[0]['problem']} (document {problems[0]['document']}): check the status code "
            "and that the body length matches Content-Length",
            problems,
        )
    return "passed", f"{len(successes)} success reports, each after a whole download", []


@check("expired-url", "a PDF link older than an hour is renewed through GET /documents/{uuid}")
def expired_url(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    documents = [f.document for f in observation.faults_of("expired_link") if f.document]
    if not documents:
        return _skip("no expired link was delivered in this scenario")
    problems = []
    for document in documents:
        refused = [d for d in observation.downloads(document) if d.get("status") == 403]
        renewals = [
            e
            for e in observation.api_requests()
            if e.get("method") == "GET" and e.get("path") == f"/documents/{document}" and e.get("status") == 200
        ]
        reports = observation.reports_for(document)
        if not refused:
            problems.append({"document": document, "problem": "the expired link was never tried"})
        elif not renewals:
            problems.append(
                {
                    "document": document,
                    "problem": "got 403 from the expired link but never called "
                    f"GET /documents/{document} for a fresh one",
                }
            )
        elif not any(r.get("success") for r in reports):
            problems.append({"document": document, "problem": "renewed the link but did not import the document"})
    if problems:
        return "failed", problems[0]["problem"], problems
    return "passed", f"{len(documents)} expired links renewed and imported", []


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
        return _skip("no access token expired in this scenario")
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
        return _skip("the integration did not refresh a token in this scenario")
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
        return _skip("the integration was never rate limited in this scenario")
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
        return _skip("the integration made no API call in this scenario")
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


@check("batch-events", "a delivery carrying several events has all of them processed")
def batch_events(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    batches = [
        d
        for d in observation.deliveries
        if len(d.get("resource_ids", [])) > 1 and not observation.forged(d) and observation.acked_attempts(d)
    ]
    if not batches:
        return _skip("no delivery carried several events in this scenario")
    missing = []
    for delivery in batches:
        for resource, action in zip(delivery["resource_ids"], delivery.get("actions", []), strict=False):
            if action in ("new_document", "document_synchronize") and not observation.reports_for(resource):
                missing.append(
                    {
                        "delivery": delivery.get("id"),
                        "document": resource,
                        "position": delivery["resource_ids"].index(resource),
                    }
                )
    if missing:
        return (
            "failed",
            f"{len(missing)} documents of multi-event deliveries were never processed (first at position "
            f"{missing[0]['position']}): loop over every entry of events[]",
            missing,
        )
    return "passed", f"{len(batches)} multi-event deliveries processed whole", []


@check("unknown-events", "an event it does not know is acknowledged and ignored")
def unknown_events(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    sends = [s for s in observation.raw_sends if s.get("unknown")]
    if not sends:
        return _skip("no unknown event was sent in this scenario")
    ids = {s["delivery"] for s in sends}
    deliveries = [d for d in observation.deliveries if d.get("id") in ids]
    bad = _late_or_refused(observation, deliveries)
    if bad:
        return (
            "failed",
            f"a delivery with an unknown event was answered {bad[0]['status']} ({bad[0]['failure']}): "
            "acknowledge with 200 and ignore what you do not know",
            bad,
        )
    touched = [r for s in sends for r in observation.reports if r.get("document_uuid") in s.get("resources", [])]
    if touched:
        return "failed", "the integration acted on an unknown event (status report sent)", touched
    return "passed", f"{len(deliveries)} deliveries with unknown events acknowledged and ignored", []


@check("note-events", "new_note deliveries are acknowledged in time and deduplicated")
def note_events(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    deliveries = observation.deliveries_with_action("new_note")
    if not deliveries:
        return _skip("no new_note delivery in this scenario")
    bad = _late_or_refused(observation, deliveries)
    if bad:
        return (
            "failed",
            f"new_note delivery answered {bad[0]['status']} after {bad[0]['latency_ms']} ms ({bad[0]['failure']})",
            bad,
        )
    fetches: dict[str, int] = {}
    for entry in observation.api_requests():
        path = entry.get("path", "")
        if entry.get("method") == "GET" and path.startswith("/notes/"):
            fetches[path] = fetches.get(path, 0) + 1
    twice = {p: n for p, n in fetches.items() if n > 1}
    if twice:
        return (
            "failed",
            f"the same note was fetched {max(twice.values())} times: deduplicate by note uuid",
            [{"path": p, "fetches": n} for p, n in twice.items()],
        )
    return "passed", f"{len(deliveries)} new_note deliveries acknowledged in time", []


@check("signature", "forged deliveries are refused; a rotated secret's valid signature is accepted")
def signature(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    signed = [d for d in observation.deliveries if observation.forgery(d) is not None]
    if not observation.signatures or not signed:
        return _skip("signature verification was not under test (run with --signatures)")
    problems = []
    for delivery in signed:
        mode = observation.forgery(delivery)
        statuses = [a.get("status") for a in delivery.get("attempts", [])]
        resources = delivery.get("resource_ids", [])
        if mode == "rotated":
            if not observation.acked_attempts(delivery):
                problems.append(
                    {
                        "delivery": delivery.get("id"),
                        "mode": mode,
                        "statuses": statuses,
                        "problem": "a delivery with one valid signature (rotated secret) was refused",
                    }
                )
        else:
            if any(isinstance(s, int) and s < 400 for s in statuses):
                problems.append(
                    {
                        "delivery": delivery.get("id"),
                        "mode": mode,
                        "statuses": statuses,
                        "problem": f"a forged delivery ({mode}) was accepted",
                    }
                )
            acted = [r for r in resources if observation.reports_for(r) or observation.downloads(r)]
            if acted:
                problems.append(
                    {
                        "delivery": delivery.get("id"),
                        "mode": mode,
                        "problem": f"acted on a forged delivery ({mode}): downloaded or reported {acted}",
                    }
                )
    refused_valid = [
        d["id"]
        for d in observation.deliveries
        if observation.forgery(d) in (None, "rotated")
        and any(a.get("status") in (400, 401, 403) for a in d.get("attempts", []))
    ]
    hint = (
        f"{len(refused_valid)} validly signed deliveries were refused: the usual cause is verifying a "
        "re-serialised JSON body instead of the raw bytes received"
    )
    if refused_valid:
        problems.append({"problem": hint, "deliveries": refused_valid})
    if problems:
        message = problems[0]["problem"]
        if refused_valid and message != hint:
            message += f"; {hint}"
        return "failed", message, problems
    return "passed", f"{len(signed)} signature cases handled", []


@check("pagination", "a polling integration reads every page of GET /documents?synchronized=false")
def pagination(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    if observation.mode != "polling":
        return _skip("the integration is not polling")
    expected = [t["resource"] for t in observation.triggered if t["action"] == "new_document"]
    if len(expected) <= 100:
        return _skip("fewer than one full page of unsynchronized documents")
    missing = [d for d in expected if not observation.reports_for(d)]
    pages = sorted({e.get("query", "") for e in observation.api_requests() if e.get("path") == "/documents"})
    if missing:
        return (
            "failed",
            f"{len(missing)} of {len(expected)} unsynchronized documents never imported: read every page "
            "(follow view.next or page=N until a short page)",
            [{"queries": pages[:20]}],
        )
    return "passed", f"all {len(expected)} documents imported across pages", []


@check("polling-interval", "a polling integration asks no more often than every 30 s")
def polling_interval(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    if observation.mode != "polling":
        return _skip("the integration is not polling")
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
    return "passed", f"{len(polls)} poll cycle(s), no two closer than 30 s", [{"gaps_s": gaps}]


def _page(entry: dict[str, Any]) -> str:
    """The page number a collection request asked for ("" when none: the first page)."""
    for part in entry.get("query", "").split("&"):
        if part.startswith("page="):
            return part.removeprefix("page=")
    return ""


@check("unusual-payloads", "valid but unusual payloads are answered within 5 s and the integration keeps working")
def unusual_payloads(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    ids = set(observation.fuzz_deliveries)
    if not ids:
        return _skip("no unusual payload was sent in this scenario")
    deliveries = [d for d in observation.deliveries if d.get("id") in ids]
    bad = _late_or_refused(observation, deliveries)
    if bad:
        return (
            "failed",
            f"{len(bad)} unusual payloads not answered 2xx within 5 s (first: {bad[0]['status']}, {bad[0]['failure']})",
            bad,
        )
    if observation.integration_exit is not None:
        return "failed", "the integration stopped while receiving unusual payloads", []
    return "passed", f"{len(deliveries)} unusual payloads answered in time", []
