"""GET /_mock/timeline: deliveries joined to what the integration did next, and the verdict in words."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from mock_server.control.timeline import build, verdict

DOC = "0b9c4a52-2f3e-4d55-9a5e-6f1c2d3e4a5b"
OTHER = "1c8d5b63-3f4e-4e66-8b6f-7a2d3e4f5b6c"


def _delivery(delivery_id: str, attempts: list[dict[str, Any]], *, doc: str = DOC, **extra: Any) -> dict[str, Any]:
    record = {"id": delivery_id, "webhook_id": "hook", "url": "http://127.0.0.1:9/hook", "state": "delivered",
              "actions": ["new_document"], "resource_ids": [doc], "event_ids": ["evt"], "created_at": 100.0,
              "next_attempt_at": None, "fault": None, "fault_params": {}, "body": "{}", "attempts": attempts}
    record.update(extra)
    return record


def _attempt(wall: float, *, status: int | None = 200, latency: float = 40.0, failure: str | None = None,
             kind: str = "scheduled") -> dict[str, Any]:
    return {"n": 1, "kind": kind, "at": wall, "wall": wall, "status": status, "latency_ms": latency,
            "failure": failure, "error": None}


def _download(wall: float, *, doc: str = DOC, complete: bool = True) -> dict[str, Any]:
    return {"id": 1, "kind": "download", "wall": wall, "at": wall, "method": "GET", "path": f"/{doc}/letter.pdf",
            "status": 200, "document_uuid": doc, "download_bytes": 900 if complete else 450,
            "download_complete": complete}


def _report(wall: float, *, success: bool = True, doc: str = DOC, error: str | None = None) -> dict[str, Any]:
    return {"id": f"r{wall}", "document_uuid": doc, "success": success, "error": error, "at": wall, "wall": wall}


def test_the_verdict_says_the_answer_the_download_and_the_confirmation() -> None:
    body = build([_delivery("d1", [_attempt(10.0)])], [_download(10.1)], [_report(10.3)], [], budget_s=5.0)
    (item,) = body["deliveries"]
    assert item["verdict"] == "200 in 40 ms; PDF downloaded whole; confirmed success 0.3 s later"
    assert [f["kind"] for f in item["attempts"][0]["followups"]] == ["download", "status-report"]
    assert body["budget_ms"] == 5000


def test_followups_belong_to_the_latest_attempt_before_them() -> None:
    first = _delivery("d1", [_attempt(10.0, status=500, failure="status"), {**_attempt(20.0, kind="retry"), "n": 2}])
    body = build([first], [_download(20.5)], [_report(21.0, success=False, error="disk full")], [], budget_s=5.0)
    attempts = body["deliveries"][0]["attempts"]
    assert attempts[0]["followups"] == []
    assert attempts[0]["verdict"] == "500 in 40 ms: not a 2xx, so a failure"
    assert attempts[1]["verdict"] == "200 in 40 ms; PDF downloaded whole; reported failure 'disk full' 1.0 s later"


def test_a_call_after_an_older_deliverys_later_attempt_is_not_given_to_the_newer_one() -> None:
    older = _delivery("d1", [_attempt(10.0), {**_attempt(30.0, kind="redeliver"), "n": 2}])
    newer = _delivery("d2", [_attempt(20.0)])
    body = build([older, newer], [_download(31.0)], [], [], budget_s=5.0, limit=1)
    (item,) = body["deliveries"]
    assert item["id"] == "d2" and item["attempts"][0]["followups"] == []
    both = build([older, newer], [_download(31.0)], [], [], budget_s=5.0)
    assert [len(a["followups"]) for a in both["deliveries"][1]["attempts"]] == [0, 1]


def test_missing_steps_and_failures_are_said_plainly() -> None:
    assert verdict(_attempt(1.0), [], 5.0) == "200 in 40 ms; PDF not downloaded; no status report yet"
    assert verdict(_attempt(1.0, status=None, failure="timeout", latency=5000), [], 5.0) == (
        "timeout: no answer within the 5.0 s budget")
    assert verdict(_attempt(1.0, latency=4600), [], 5.0).startswith("200 in 4.6 s (close to the 5.0 s budget)")
    cut = build([_delivery("d", [_attempt(1.0)])], [_download(1.2, complete=False)], [], [], budget_s=5.0)
    assert "PDF download incomplete (450 bytes, cut short)" in cut["deliveries"][0]["verdict"]
    note = _delivery("n", [_attempt(1.0)], actions=["new_note"])
    assert build([note], [], [], [], budget_s=5.0)["deliveries"][0]["verdict"] == "200 in 40 ms"


def test_another_documents_calls_and_a_refused_report_are_told_apart() -> None:
    journal = [_download(1.1, doc=OTHER),
               {"id": 2, "kind": "api", "wall": 1.2, "at": 1.2, "method": "GET", "path": f"/documents/{DOC}",
                "status": 200, "latency_ms": 3.0},
               {"id": 3, "kind": "api", "wall": 1.4, "at": 1.4, "method": "POST", "path": f"/documents/{DOC}/status",
                "status": 422, "latency_ms": 2.0}]
    item = build([_delivery("d", [_attempt(1.0)])], journal, [], [], budget_s=5.0)["deliveries"][0]
    assert item["verdict"] == ("200 in 40 ms; PDF not downloaded; document read back (200); "
                               "status report refused (422) 0.4 s later; no status report yet")


def test_newest_first_with_the_fault_and_a_pending_retry() -> None:
    old = _delivery("old", [_attempt(1.0)])
    raw = _delivery("raw", [_attempt(2.0, status=None, failure="refused", latency=1.0)], state="pending",
                    next_attempt_at=7.0, fault="raw")
    body = build([old, raw], [], [], [], budget_s=5.0, limit=1)
    (item,) = body["deliveries"]
    assert item["id"] == "raw" and item["attempts"][0]["fault"] == "hand-made"
    assert item["verdict"] == "refused: connection refused in 1 ms; next attempt pending"


def test_the_endpoint_serves_deliveries_and_documents_newest_first(client: TestClient) -> None:
    first = client.post("/_mock/documents", json={"validate": True}).json()["document"]
    second = client.post("/_mock/documents").json()["document"]
    store = client.app.state.mock.store  # type: ignore[attr-defined]
    store.deliveries.put("d1", _delivery("d1", [_attempt(10.0)], doc=first["uuid"]))
    store.status_reports.put("r1", _report(10.5, doc=first["uuid"], success=False, error="no such patient"))
    body = client.get("/_mock/timeline").json()
    assert [d["uuid"] for d in body["documents"][:2]] == [second["uuid"], first["uuid"]]
    assert body["documents_total"] == len(store.documents) == len(body["documents"])
    reported = body["documents"][1]
    assert reported["status_reports"][0]["error"] == "no such patient"
    assert body["deliveries"][0]["verdict"].endswith("reported failure 'no such patient' 0.5 s later")
    assert client.get("/_mock/timeline", params={"limit": "0"}).status_code == 400
