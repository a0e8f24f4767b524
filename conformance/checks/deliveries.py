"""Checks on how the integration answers deliveries: in time, once, whole, signed."""

from __future__ import annotations

from typing import Any

from conformance.checks.causes import because, explain
from conformance.checks.registry import Status, attempt_evidence, check, late_or_refused, skip
from conformance.observation import Observation


@check("ack-within-5s", "every delivery is answered 2xx within 5 s")
def ack_within_5s(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    attempts = [a for d in observation.deliveries if not observation.forged(d) for a in d.get("attempts", [])]
    if not attempts:
        return skip("no delivery reached the integration in this scenario")
    bad = late_or_refused(observation, observation.deliveries)
    if bad:
        return (
            "failed",
            f"{len(bad)} of {len(attempts)} delivery attempts were not answered 2xx within 5 s: "
            + _why_not_acked(bad, observation.signatures),
            bad,
        )
    slowest = max(a.get("latency_ms") or 0 for a in attempts)
    return "passed", f"{len(attempts)} attempts answered 2xx; slowest {slowest:.0f} ms", []


def _why_not_acked(bad: list[dict[str, Any]], signed: bool) -> str:
    """The failed attempts by cause: refused (4xx), errors (5xx, garbage), late or unanswered; advice for each."""
    refused = [b for b in bad if isinstance(b["status"], int) and 400 <= b["status"] < 500]
    errors = [b for b in bad if b not in refused and isinstance(b["status"], int) and not 200 <= b["status"] < 300]
    late = [b for b in bad if b not in refused and b not in errors]
    parts = []
    if refused:
        first = refused[0]
        statuses = ", ".join(sorted({str(b["status"]) for b in refused}))
        body = f", answering {first['response_body'][:80]!r}" if first.get("response_body") else ""
        genuine = (
            "genuine and correctly signed, so accept them (verify the signature over the raw body bytes with "
            "ASKARA_WEBHOOK_SECRET)"
            if signed
            else "genuine (unsigned: this run does not test signatures), so accept them"
        )
        parts.append(f"{len(refused)} refused by the integration ({statuses}{body}): these deliveries were {genuine}")
    if errors:
        parts.append(f"{len(errors)} answered {errors[0]['status']}: acknowledge first, then process")
    if late:
        first = late[0]
        parts.append(
            f"{len(late)} late or unanswered (first: status {first['status']}, {first['latency_ms']} ms, "
            f"failure {first['failure']}). Answer 200 at once and do the work afterwards."
        )
    return "; ".join(parts)


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
        return skip("no document reached the integration more than once in this scenario")
    problems = [p for d in documents for p in _import_violations(observation, d)]
    unconfirmed = [d for d in documents if not observation.reports_for(d)]
    if problems:
        return (
            "failed",
            f"{problems[0]['problem']} for document {problems[0]['document']}: deduplicate by uuid",
            problems,
        )
    if unconfirmed and len(unconfirmed) == len(documents):
        return skip(
            f"the {len(documents)} document(s) delivered more than once were never confirmed, so whether each was "
            f"imported once cannot be judged (see always-confirm){because(observation, unconfirmed)}"
        )
    checked = len(documents) - len(unconfirmed)
    unjudged = f"; {len(unconfirmed)} never confirmed, not judged" if unconfirmed else ""
    return "passed", f"{checked} documents delivered more than once, each imported once{unjudged}", []


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
        return skip("no delivery needed a retry in this scenario")
    problems: list[dict[str, Any]] = []
    for delivery in retried:
        if delivery.get("state") != "delivered":
            problems.append(
                {
                    "delivery": delivery.get("id"),
                    "problem": f"never recovered (state {delivery.get('state')})",
                    "attempts": [attempt_evidence(delivery, a) for a in delivery["attempts"]],
                }
            )
            continue
        for resource, action in zip(delivery.get("resource_ids", []), delivery.get("actions", []), strict=False):
            if action in ("new_document", "document_synchronize"):
                problems.extend(_import_violations(observation, resource))
                if not observation.reports_for(resource):
                    problems.append(
                        {
                            "document": resource,
                            "problem": f"not confirmed after the retry{because(observation, [resource])}",
                        }
                    )
    if problems:
        first = problems[0]
        return (
            "failed",
            f"{first.get('problem')} ({first.get('document') or first.get('delivery')}): an event retried "
            "after a failed or lost answer must still be imported exactly once",
            problems,
        )
    return "passed", f"{len(retried)} retried deliveries, each imported once", []


@check("batch-events", "a delivery carrying several events has all of them processed")
def batch_events(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    batches = [
        d
        for d in observation.deliveries
        if len(d.get("resource_ids", [])) > 1 and not observation.forged(d) and observation.acked_attempts(d)
    ]
    if not batches:
        return skip("no delivery carried several events in this scenario")
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
        head = f"{len(missing)} documents of multi-event deliveries were never processed"
        cause = explain(observation, [m["document"] for m in missing])
        if cause:  # not the integration's loop: nothing it did got through
            return "failed", f"{head}, but not for lack of a loop: the journal shows {cause}", missing
        return (
            "failed",
            f"{head} (first at position {missing[0]['position']}): loop over every entry of events[]",
            missing,
        )
    return "passed", f"{len(batches)} multi-event deliveries processed whole", []


@check("unknown-events", "an event it does not know is acknowledged and ignored")
def unknown_events(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    sends = [s for s in observation.raw_sends if s.get("unknown")]
    if not sends:
        return skip("no unknown event was sent in this scenario")
    ids = {s["delivery"] for s in sends}
    deliveries = [d for d in observation.deliveries if d.get("id") in ids]
    bad = late_or_refused(observation, deliveries)
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
        return skip("no new_note delivery in this scenario")
    bad = late_or_refused(observation, deliveries)
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
        return skip("signature verification was not under test (run with --signatures)")
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
        message = str(problems[0]["problem"])
        if refused_valid and message != hint:
            message += f"; {hint}"
        return "failed", message, problems
    return "passed", f"{len(signed)} signature cases handled", []


@check("unusual-payloads", "valid but unusual payloads are answered within 5 s and the integration keeps working")
def unusual_payloads(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    ids = set(observation.fuzz_deliveries)
    if not ids:
        return skip("no unusual payload was sent in this scenario")
    deliveries = [d for d in observation.deliveries if d.get("id") in ids]
    bad = late_or_refused(observation, deliveries)
    if bad:
        return (
            "failed",
            f"{len(bad)} unusual payloads not answered 2xx within 5 s (first: {bad[0]['status']}, {bad[0]['failure']})",
            bad,
        )
    if observation.integration_exit is not None:
        return "failed", "the integration stopped while receiving unusual payloads", []
    return "passed", f"{len(deliveries)} unusual payloads answered in time", []
