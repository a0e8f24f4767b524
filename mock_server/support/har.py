"""The two-way transcript as HAR 1.2: every request the mock answered and every webhook attempt it made.

Inbound entries come from the journal (``store.journal``: API calls, OAuth exchanges, pages, PDF
downloads) and its ``exchanges`` (headers and the first ``har_body_bytes`` of each body);
outbound entries are the sender's delivery attempts: the request is the mock's POST, the response
the integration's answer, or a failed one (``status: 0`` and Chromium's ``_error``: ``timeout``,
``refused``, ``reset``...). Entries are in wall-clock order of their start.

Every entry carries ``_askara`` (HAR's custom fields start with ``_``): ``direction``
(``inbound``/``outbound``), ``kind``, ``journal_id`` or ``delivery_id`` + ``attempt``, the
resources it concerns (``document``, ``resources``), ``mock_time`` and ``wall_time`` (ISO 8601),
and the ``fault`` applied. All text passes through a :class:`~mock_server.support.redact.Redactor`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from mock_server.core.store import Record
from mock_server.support.redact import Redactor

HAR_VERSION = "1.2"
NOTE_KEYS = ("client_id", "token_jti", "grant_type", "refresh_family", "bucket", "retry_after", "download_bytes",
             "download_complete", "download_range", "download_error", "assumptions", "user_agent")


UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
CONCERNS = re.compile(rf"/(documents|notes|status-reports)/({UUID})|^/[^/]+/({UUID})/")


def concerns(entry: Record) -> dict[str, str]:
    """The document or note a journal entry is about: its note, else the uuid in its path."""
    if entry.get("document_uuid"):
        return {"document": str(entry["document_uuid"])}
    match = CONCERNS.search(str(entry.get("path") or ""))
    if match is None:
        return {}
    if match.group(3):  # the files origin: /{bucket}/{document uuid}/{file name}
        return {"document": match.group(3)}
    return {"note" if match.group(1) == "notes" else "document": match.group(2)}


def iso_ms(epoch: float) -> str:
    """ISO 8601 with milliseconds and ``Z``, as HAR's ``startedDateTime`` wants it."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def header_list(pairs: Iterable[Any], redactor: Redactor) -> list[dict[str, str]]:
    return [{"name": str(k), "value": redactor.header(str(k), str(v))} for k, v in pairs]


def find_header(headers: Iterable[Any], name: str) -> str:
    return next((str(v) for k, v in headers if str(k).lower() == name), "")


def inbound_entry(entry: Record, exchange: Record | None, base_url: str, redactor: Redactor) -> dict[str, Any]:
    """One journal entry (and its captured exchange, when kept) as a HAR entry."""
    http = exchange or {}
    request_headers = http.get("request_headers") or []
    response_headers = http.get("response_headers") or []
    scheme = http.get("scheme") or "http"
    host = find_header(request_headers, "host") or base_url.split("://", 1)[-1]
    query = str(entry.get("query") or "")
    url = redactor.url(f"{scheme}://{host}{entry.get('path', '')}" + (f"?{query}" if query else ""))
    latency = float(entry.get("latency_ms") or 0.0)
    wall = float(entry.get("wall") or 0.0)
    status = int(entry.get("status") or 0)
    request: dict[str, Any] = {
        "method": str(entry.get("method", "GET")),
        "url": url,
        "httpVersion": f"HTTP/{http.get('http_version', '1.1')}",
        "cookies": [],
        "headers": header_list(request_headers, redactor),
        "queryString": [{"name": k, "value": v} for k, v in redactor.pairs(parse_qsl(query, keep_blank_values=True))],
        "headersSize": -1,
        "bodySize": int(http.get("request_size") or 0),
    }
    if http.get("request_size"):
        request["postData"] = {
            "mimeType": find_header(request_headers, "content-type") or "application/octet-stream",
            "text": redactor.text(str(http.get("request_body") or "")),
        }
    mime = find_header(response_headers, "content-type") or "x-unknown"
    content: dict[str, Any] = {"size": int(http.get("response_size") or 0), "mimeType": mime}
    if http.get("response_kept"):
        content["text"] = redactor.text(str(http.get("response_body") or ""))
    elif http:
        content["comment"] = "binary body not kept"
    response = {
        "status": status,
        "statusText": status_text(status),
        "httpVersion": request["httpVersion"],
        "cookies": [],
        "headers": header_list(response_headers, redactor),
        "content": content,
        "redirectURL": redactor.url(find_header(response_headers, "location")),
        "headersSize": -1,
        "bodySize": int(http.get("response_size") or 0),
    }
    vendor: dict[str, Any] = {
        "direction": "inbound",
        "kind": entry.get("kind"),
        "journal_id": entry.get("id"),
        "document": None,
        **concerns(entry),
        "mock_time": iso_ms(float(entry.get("at") or 0.0)),
        "wall_time": iso_ms(wall),
        "fault": entry.get("fault"),
        **{k: redactor.tree(entry[k]) for k in NOTE_KEYS if entry.get(k) is not None},
    }
    if exchange is None:
        vendor["comment"] = "headers and bodies not kept (the exchange was dropped or predates this build)"
    return {
        "startedDateTime": iso_ms(wall - latency / 1000.0),
        "time": latency,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": latency, "receive": 0},
        "_askara": vendor,
    }


def outbound_entries(delivery: Record, redactor: Redactor) -> list[dict[str, Any]]:
    """One HAR entry per attempt of a delivery: the mock's POST and what the integration answered."""
    entries = []
    resources = [
        {"id": rid, "action": action}
        for rid, action in zip(delivery.get("resource_ids") or [], delivery.get("actions") or [], strict=False)
    ]
    for attempt in delivery.get("attempts") or []:
        body = str(attempt.get("request_body") or delivery.get("body") or "")
        headers = dict(attempt.get("request_headers") or {})
        latency = float(attempt.get("latency_ms") or 0.0)
        status = int(attempt.get("status") or 0)
        failure = attempt.get("failure")
        answer = str(attempt.get("response_body") or "")
        response: dict[str, Any] = {
            "status": status,
            "statusText": status_text(status) if status else "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [],
            "content": {"size": len(answer.encode()), "mimeType": "x-unknown", "text": redactor.text(answer)},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(answer.encode()) if status else -1,
            "comment": "the sender keeps the answer's status and first bytes, not its headers",
        }
        if failure:
            response["_error"] = str(failure)
        wall = float(attempt.get("wall") or 0.0)
        entries.append(
            {
                "startedDateTime": iso_ms(wall),
                "time": latency,
                "request": {
                    "method": "POST",
                    "url": redactor.url(str(attempt.get("url") or delivery.get("url") or "")),
                    "httpVersion": "HTTP/1.1",
                    "cookies": [],
                    "headers": header_list(headers.items(), redactor),
                    "queryString": [],
                    "postData": {"mimeType": headers.get("Content-Type", "application/json"),
                                 "text": redactor.text(body)},
                    "headersSize": -1,
                    "bodySize": len(body.encode()),
                },
                "response": response,
                "cache": {},
                "timings": {"send": 0, "wait": latency, "receive": 0},
                "_askara": {
                    "direction": "outbound",
                    "kind": "webhook",
                    "delivery_id": delivery.get("id"),
                    "attempt": attempt.get("n"),
                    "attempt_kind": attempt.get("kind"),
                    "resources": resources,
                    "document": next((r["id"] for r in resources if r["action"] != "new_note"), None),
                    "note": next((r["id"] for r in resources if r["action"] == "new_note"), None),
                    "mock_time": iso_ms(float(attempt.get("at") or 0.0)),
                    "wall_time": iso_ms(wall),
                    "fault": delivery.get("fault"),
                    "failure": failure,
                    "error": redactor.text(str(attempt.get("error") or "")) or None,
                },
            }
        )
    return entries


def build_har(
    journal: Iterable[Record],
    exchanges: dict[int, Record],
    deliveries: Iterable[Record],
    *,
    base_url: str,
    version: str,
    redactor: Redactor,
    dropped: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The whole transcript as a HAR 1.2 document (``{"log": {...}}``)."""
    entries = [inbound_entry(e, exchanges.get(int(e["id"])), base_url, redactor) for e in journal]
    for delivery in deliveries:
        entries.extend(outbound_entries(delivery, redactor))
    entries.sort(key=lambda e: e["startedDateTime"])
    log: dict[str, Any] = {
        "version": HAR_VERSION,
        "creator": {"name": "askara-mock", "version": version},
        "pages": [],
        "entries": entries,
        "comment": "Askara mock transcript: inbound = requests the integration made to the mock, "
        "outbound = webhook attempts the mock made to the integration"
        + ("; secrets redacted, patients pseudonymised" if redactor.enabled else "; NOT redacted"),
    }
    if dropped:
        log["_askara"] = {"dropped": dropped, "redacted": redactor.enabled}
    else:
        log["_askara"] = {"redacted": redactor.enabled}
    return {"log": log}
