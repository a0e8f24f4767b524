"""``GET /_mock/timeline``: each delivery beside what the integration did because of it, in plain words.

A support engineer asks "what happened to this document?": the webhook attempts (status, latency
against the answer budget, failure, fault applied), then the integration's own calls about the
same documents (the PDF download, ``GET /documents/{uuid}``, the status report). This view joins
the delivery log, the journal and the status reports by document, and says each outcome as a
sentence ("200 in 40 ms; PDF downloaded whole; confirmed success 0.3 s later") so the web page
only draws it.

The join is by real time (``wall``), as the integration waits in real time whatever the mock
clock does: an integration call about a document belongs to the latest attempt, of any
delivery naming that document, made before it. It is a view over bounded tables, not a record
listing: newest first, ``limit`` deliveries (50 by default) and the newest
:data:`DOCUMENTS_SHOWN` documents, ``dropped`` as the delivery log counts.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.control.common import context, query_int
from mock_server.core.store import Record
from mock_server.web.http import json_response

DEFAULT_LIMIT = 50
DOCUMENTS_SHOWN = 200
"""The newest documents the view lists (a bench seeds 100 000); ``documents_total`` counts them all."""
ATTEMPT_KEYS = ("n", "kind", "at", "wall", "status", "latency_ms", "failure", "error")
DOCUMENT_PATH = re.compile(r"^/documents/([0-9a-fA-F-]{36})(/status)?/?$")
CLOSE_TO_BUDGET = 0.8
"""An answer slower than this share of the budget is called out: the next one may not make it."""
FAILURE_WORDS = {
    "timeout": "no answer within the {budget} budget",
    "refused": "connection refused",
    "reset": "connection reset before an answer",
    "redirect": "answered a redirect (never followed)",
    "invalid_url": "the webhook URL cannot be reached",
    "lost_ack": "answered, but the answer was lost (lost_ack fault)",
    "error": "the attempt failed",
}


def routes() -> list[BaseRoute]:
    return [Route("/_mock/timeline", timeline, methods=["GET"])]


async def timeline(request: Request) -> Response:
    """The deliveries (newest first) with their attempts, follow-ups and verdicts, and the documents."""
    limit = query_int(request, "limit", minimum=1, maximum=1000) or DEFAULT_LIMIT
    ctx = context(request)
    store = ctx.store
    body = build(
        store.deliveries.values(),
        store.journal.values(),
        store.status_reports.values(),
        store.documents.values(),
        budget_s=ctx.settings.webhook_timeout,
        limit=limit,
    )
    body["dropped"] = store.deliveries.dropped
    return json_response(body)


def build(
    deliveries: list[Record],
    journal: Iterable[Record],
    reports: Iterable[Record],
    documents: Iterable[Record],
    *,
    budget_s: float,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """The timeline body (a pure function of the records, so tests need no server).

    Only the documents the shown deliveries name are joined, but against the attempts of every
    delivery naming them (an older delivery's attempt may be what a call followed)."""
    shown = deliveries[-limit:]
    wanted = {uuid for delivery in shown for uuid in _documents_of(delivery)}
    triggers: dict[str, list[tuple[float, str, int]]] = {}
    for delivery in deliveries:
        for index, attempt in enumerate(delivery.get("attempts") or []):
            for uuid in _documents_of(delivery):
                if uuid in wanted:
                    triggers.setdefault(uuid, []).append((float(attempt.get("wall") or 0), delivery["id"], index))
    for marks in triggers.values():
        marks.sort()
    follow: dict[tuple[str, int], list[Record]] = {}
    reports = list(reports)
    for item in [*_journal_followups(journal, triggers), *map(_report_followup, reports)]:
        marks = triggers.get(item["document_uuid"], [])
        at = bisect.bisect_right(marks, (item["wall"], "\uffff", 1 << 30)) - 1
        if at >= 0:
            _wall, delivery_id, index = marks[at]
            item["after_s"] = round(item["wall"] - marks[at][0], 3)
            follow.setdefault((delivery_id, index), []).append(item)
    items = [_delivery(d, follow, budget_s) for d in reversed(shown)]
    documents = list(documents)
    return {"budget_ms": round(budget_s * 1000), "deliveries": items, "documents_total": len(documents),
            "documents": _documents(documents[-DOCUMENTS_SHOWN:], reports)}


def _documents_of(delivery: Record) -> list[str]:
    actions = delivery.get("actions") or []
    ids = delivery.get("resource_ids") or []
    return [str(i) for a, i in zip(actions, ids, strict=False) if i and not str(a).startswith("new_note")]


def _journal_followups(journal: Iterable[Record], wanted: dict[str, Any]) -> Iterable[Record]:
    """Downloads and ``/documents/{uuid}`` calls about ``wanted`` documents; a refused status report too
    (an accepted one is a report)."""
    for entry in journal:
        kind = entry.get("kind")
        if kind == "download" and entry.get("document_uuid") in wanted:
            yield {"kind": "download", "document_uuid": entry["document_uuid"], "wall": float(entry.get("wall") or 0),
                   "at": entry.get("at"), "status": entry.get("status"), "latency_ms": entry.get("latency_ms"),
                   "bytes": entry.get("download_bytes"), "complete": bool(entry.get("download_complete")),
                   "error": entry.get("download_error"), "fault": entry.get("fault")}
            continue
        match = DOCUMENT_PATH.match(str(entry.get("path") or "")) if kind == "api" else None
        if match is None or match.group(1).lower() not in wanted:
            continue
        status = int(entry.get("status") or 0)
        if match.group(2) and status < 400:
            continue  # the status report itself stands for it
        yield {"kind": "status-refused" if match.group(2) else "read", "document_uuid": match.group(1).lower(),
               "wall": float(entry.get("wall") or 0), "at": entry.get("at"), "method": entry.get("method"),
               "path": entry.get("path"), "status": status, "latency_ms": entry.get("latency_ms"),
               "fault": entry.get("fault")}


def _report_followup(report: Record) -> Record:
    return {"kind": "status-report", "document_uuid": report.get("document_uuid"),
            "wall": float(report.get("wall") or 0), "at": report.get("at"),
            "success": bool(report.get("success")), "error": report.get("error")}


def _attempt_fault(delivery: Record, attempt: Record, first: bool) -> str | None:
    """The fault that shaped this attempt, as the delivery recorded it."""
    kind = attempt.get("kind")
    params = delivery.get("fault_params") or {}
    applied = [kind] if kind in ("duplicate", "concurrent") else []
    if "forged_signature" in params and kind != "redeliver":
        applied.append(f"forged_signature ({params['forged_signature'].get('mode')})")
    if first:
        applied += [name for name in ("batch", "out_of_order") if name in params]
        if attempt.get("failure") == "lost_ack":
            applied.append("lost_ack")
    if delivery.get("fault") == "raw":
        applied.append("hand-made")
    return ", ".join(applied) or None


def _delivery(delivery: Record, follow: dict[tuple[str, int], list[Record]], budget_s: float) -> Record:
    attempts = []
    main_seen = False
    for index, attempt in enumerate(delivery.get("attempts") or []):
        first = attempt.get("kind") in ("scheduled", "retry") and not main_seen
        main_seen = main_seen or attempt.get("kind") in ("scheduled", "retry")
        after = sorted(follow.get((delivery["id"], index), []), key=lambda item: item["wall"])
        shown = {key: attempt.get(key) for key in ATTEMPT_KEYS}
        shown.update(fault=_attempt_fault(delivery, attempt, first), followups=after,
                     verdict=verdict(attempt, after, budget_s, documents=bool(_documents_of(delivery))))
        attempts.append(shown)
    last = attempts[-1]["verdict"] if attempts else "not attempted yet"
    if delivery.get("state") == "pending" and delivery.get("next_attempt_at") is not None and attempts:
        last += "; next attempt pending"
    elif delivery.get("state") == "failed":
        last += "; retries spent (failure queue)"
    keep = ("id", "webhook_id", "url", "state", "actions", "resource_ids", "event_ids", "created_at",
            "next_attempt_at", "fault", "body", "cancelled_reason")
    return {**{key: delivery.get(key) for key in keep}, "attempts": attempts, "verdict": last}


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 1 else f"{value:.1g} s" if value >= 0.1 else f"{round(value * 1000)} ms"


def _answer(attempt: Record, budget_s: float) -> str:
    failure, status, latency = attempt.get("failure"), attempt.get("status"), attempt.get("latency_ms")
    took = "" if latency is None else f" in {_seconds(float(latency) / 1000)}"
    if failure == "status" or (failure is None and status is not None):
        said = f"{status}{took}" if failure is None else f"{status}{took}: not a 2xx, so a failure"
        if failure is None and latency is not None and float(latency) >= CLOSE_TO_BUDGET * budget_s * 1000:
            said += f" (close to the {_seconds(budget_s)} budget)"
        return said
    words = FAILURE_WORDS.get(str(failure), str(failure)).format(budget=_seconds(budget_s))
    return f"{failure}: {words}" + ("" if failure == "timeout" else took)


def verdict(attempt: Record, followups: list[Record], budget_s: float, *, documents: bool = True) -> str:
    """One attempt and what followed, as a sentence: the answer, the download, the read, the report."""
    parts = [_answer(attempt, budget_s)]
    ok = attempt.get("failure") is None
    downloads = [f for f in followups if f["kind"] == "download"]
    if any(f["complete"] for f in downloads):
        parts.append("PDF downloaded whole" + (f" ({len(downloads)} downloads)" if len(downloads) > 1 else ""))
    elif downloads:
        last = downloads[-1]
        why = last.get("error") or (f"{last.get('bytes')} bytes, cut short" if last.get("status") in (200, 206)
                                    else f"status {last.get('status')}")
        parts.append(f"PDF download incomplete ({why})")
    elif ok and documents:
        parts.append("PDF not downloaded")
    reads = [f for f in followups if f["kind"] == "read"]
    if reads:
        statuses = ", ".join(str(f["status"]) for f in reads)
        parts.append(f"document read back ({statuses})")
    for item in followups:
        if item["kind"] == "status-refused":
            parts.append(f"status report refused ({item['status']}) {_seconds(item['after_s'])} later")
        elif item["kind"] == "status-report":
            said = "confirmed success" if item["success"] else f"reported failure {item.get('error')!r}"
            parts.append(f"{said} {_seconds(item['after_s'])} later")
    if ok and documents and not any(f["kind"] == "status-report" for f in followups):
        parts.append("no status report yet")
    return "; ".join(parts)


def _documents(documents: Iterable[Record], reports: list[Record]) -> list[Record]:
    """Documents newest first, each with its last error and its status reports (newest first)."""
    by_document: dict[str, list[Record]] = {}
    for report in reports:
        by_document.setdefault(str(report.get("document_uuid")), []).append(report)
    shown = []
    for doc in reversed(list(documents)):  # the store keeps insertion order: the newest is last
        patient = doc.get("patient") or {}
        own = sorted(by_document.get(doc["uuid"], []), key=lambda r: float(r.get("wall") or 0), reverse=True)
        shown.append({
            "uuid": doc["uuid"], "type": doc.get("type"), "title": doc.get("title"), "state": doc.get("state"),
            "synchronized": doc.get("synchronized"), "synchronizedAt": doc.get("synchronizedAt"),
            "createdAt": doc.get("createdAt"), "lastError": doc.get("lastError"),
            "last_sync_request": doc.get("_last_sync_request"),
            "patient": {k: patient.get(k) for k in ("firstName", "lastName", "externalId")},
            "status_reports": [{k: r.get(k) for k in ("at", "wall", "success", "error", "directory", "path",
                                                      "client_id")} for r in own],
        })
    return shown
