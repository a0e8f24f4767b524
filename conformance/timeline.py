"""The run's timeline for the reports: deliveries, API calls and status reports in one list by real time."""

from __future__ import annotations

import contextlib
from typing import Any

from conformance.mockclient import MockClient, MockError
from conformance.observation import HARNESS_USER_AGENT


def timeline(mock: MockClient) -> list[dict[str, Any]]:
    """Deliveries, API calls and status reports in one list by real time, for the reports."""
    items: list[dict[str, Any]] = []
    with contextlib.suppress(MockError):
        for delivery in mock.deliveries():
            for attempt in delivery.get("attempts", []):
                items.append(
                    {
                        "wall": attempt.get("wall"),
                        "kind": "delivery",
                        "what": f"{delivery.get('id')} #{attempt.get('n')} {','.join(delivery.get('actions', []))}",
                        "result": attempt.get("status") or attempt.get("failure"),
                        "latency_ms": attempt.get("latency_ms"),
                    }
                )
        for entry in mock.journal():
            items.append(
                {
                    "wall": entry.get("wall"),
                    "kind": entry.get("kind"),
                    "what": f"{entry.get('method')} {entry.get('path')}"
                    + (f"?{entry['query']}" if entry.get("query") else ""),
                    "result": entry.get("status"),
                    "latency_ms": entry.get("latency_ms"),
                    "by": "harness"
                    if str(entry.get("user_agent", "")).startswith(HARNESS_USER_AGENT)
                    else "integration",
                }
            )
        for report in mock.status_reports():
            items.append(
                {
                    "wall": report.get("wall"),
                    "kind": "status-report",
                    "what": report.get("document_uuid"),
                    "result": "success" if report.get("success") else f"failure: {report.get('error')}",
                }
            )
    return sorted(items, key=lambda i: i.get("wall") or 0)[-2000:]
