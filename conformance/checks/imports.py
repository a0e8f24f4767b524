"""Checks on the import itself: every document confirmed, honestly, with links renewed and downloaded anonymously."""

from __future__ import annotations

from typing import Any

from conformance.checks.causes import because, describe_refused_posts, refusal_evidence, refused_status_posts
from conformance.checks.registry import Status, check, skip
from conformance.observation import Observation


@check("always-confirm", "every delivered document gets a status report")
def always_confirm(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    documents = (
        observation.delivered_documents()
        if observation.mode == "webhook"
        else [t["resource"] for t in observation.triggered if t["action"] == "new_document"]
    )
    if not documents:
        return skip("no document was delivered to the integration in this scenario")
    missing = [d for d in documents if not observation.reports_for(d)]
    if not missing:
        return "passed", f"all {len(documents)} delivered documents were confirmed", []
    refused = {d: refused_status_posts(observation, d) for d in missing}
    never = [d for d in missing if not refused[d]]
    parts = []
    if len(never) < len(missing):
        posts = [e for d in missing for e in refused[d]]
        parts.append(
            f"{len(missing) - len(never)} of {len(documents)} delivered documents were confirmed but the mock refused "
            f"the report ({describe_refused_posts(posts)}): send what the refusal names (success a boolean, "
            "a valid access token with write:document_integrations)"
        )
    if never:
        parts.append(
            f"{len(never)} of {len(documents)} delivered documents got no POST /documents/{{uuid}}/status: "
            f"always confirm, success or failure{because(observation, never)}"
        )
    evidence = [
        {
            "document": d,
            "downloads": len(observation.downloads(d)),
            "refused_reports": [refusal_evidence(e) for e in refused[d]][:5],
        }
        for d in missing
    ]
    return "failed", "; ".join(parts), evidence


def _download_faulted(observation: Observation) -> list[str]:
    return [f.document for f in observation.faults_of("download") if f.document]


@check("confirm-failure", "when the import cannot succeed, the report says success: false with an error")
def confirm_failure(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    documents = _download_faulted(observation)
    if not documents:
        return skip("no import was made to fail in this scenario")
    problems = []
    for document in documents:
        reports = observation.reports_for(document)
        failures = [r for r in reports if r.get("success") is False]
        if not reports:
            problems.append(
                {
                    "document": document,
                    "problem": f"no status report at all after the download failed{because(observation, [document])}",
                }
            )
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
    faulted = _download_faulted(observation)
    declined = [
        d
        for d in faulted
        if observation.reports_for(d) and not any(r.get("success") for r in observation.reports_for(d))
    ]
    if not successes and not declined:
        return skip("no document was confirmed in this scenario (no status report to judge)")
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
    said = [f"{len(successes)} success report(s), each after a whole download"] if successes else []
    if declined:
        said.append(f"{len(declined)} document(s) whose download failed reported success: false")
    return "passed", "; ".join(said), []


@check("expired-url", "a PDF link older than an hour is renewed through GET /documents/{uuid}")
def expired_url(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    documents = [f.document for f in observation.faults_of("expired_link") if f.document]
    if not documents:
        return skip("no expired link was delivered in this scenario")
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
            problems.append(
                {"document": document, "problem": f"the expired link was never tried{because(observation, [document])}"}
            )
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


@check("anonymous-download", "PDF links are downloaded without an Authorization header (they are signed already)")
def anonymous_download(observation: Observation) -> tuple[Status, str, list[dict[str, Any]]]:
    downloads = observation.downloads()
    if not downloads:
        return skip("no PDF link was downloaded in this scenario")
    sent = [d for d in downloads if d.get("authorization_header")]
    if sent:
        scheme = sent[0]["authorization_header"]
        refused = [d for d in sent if d.get("download_error") == "InvalidArgument"]
        return (
            "failed",
            f"{len(sent)} of {len(downloads)} PDF downloads sent an Authorization header ({scheme}) with the "
            f'pre-signed link ({len(refused)} answered 400 InvalidArgument "Only one auth mechanism allowed", as '
            "S3 answers): download pdf.url with no Authorization header, through an HTTP client without a default "
            "auth header; the token must not leave the API host",
            [
                {
                    "document": d.get("document_uuid"),
                    "status": d.get("status"),
                    "error": d.get("download_error"),
                    "authorization": d.get("authorization_header"),
                }
                for d in sent
            ],
        )
    return "passed", f"{len(downloads)} PDF downloads, none with an Authorization header", []
