"""The mock says out loud when an answer rests on a guess about Askara.

Each registered assumption has its entry in docs/assumptions.md and a handler that relies on it;
an answer that relied on some names them in ``X-Askara-Mock-Assumptions`` and in its journal entry,
``GET /_mock/assumptions`` counts them, ``--documented-only`` turns invented operations and fields
off, a plain-http webhook URL off loopback is flagged, and the harness's ``deliveries-settled``
wait works with either reading of the retry schedule.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from conftest import access_token, ctx_of
from starlette.testclient import TestClient

from conformance.mockclient import MockClient
from conformance.observation import Observation
from conformance.steps import StepRuntime, run_step
from mock_server.api.webhook_urls import WARNING_HEADER, url_warnings
from mock_server.core.assumptions import HEADER, all_assumptions, rely
from mock_server.serving import RunningMock, free_port

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "assumptions.md").read_text(encoding="utf-8")
RELIED_ELSEWHERE: set[str] = set()
"""Relied on by a handler another branch edits (mock_server/api/oauth/endpoints.py)."""
EVENTS = ["new_document", "new_note"]


def auth(client: TestClient, scope: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(client, scope)}"}


def relied(response: object) -> list[str]:
    value = response.headers.get(HEADER)  # type: ignore[attr-defined]
    return [] if value is None else [v.strip() for v in value.split(",")]


def a_document(client: TestClient) -> str:
    answer = client.post("/_mock/documents", json={"validate": True})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["document"]["uuid"])


# -- the registry --------------------------------------------------------------------------------


def test_every_assumption_has_its_anchored_entry_in_the_docs() -> None:
    for entry in all_assumptions().values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.id), entry.id
        assert f'<a id="{entry.id}"></a>' in DOCS, f"docs/assumptions.md has no anchor for {entry.id}"
        assert entry.text and entry.source and entry.verify
        assert not entry.operations or entry.invented


def test_every_assumption_is_relied_on_by_some_handler() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "mock_server").rglob("*.py"))
    names = {
        name: entry_id
        for name, entry_id in re.findall(r'^([A-Z_]+) = assumption\(\s*"([a-z0-9-]+)"', source, re.M)
    }
    assert set(names.values()) == set(all_assumptions())
    for name, entry_id in names.items():
        if entry_id in RELIED_ELSEWHERE:
            continue
        pattern = (rf"rely\([^)]*(?:\b{name}\.id|[\"']{entry_id}[\"'])\)|served_form\([^)]*\b{name}\b"
                   rf"|extras_assumption=[\"']{entry_id}[\"']")
        uses = re.findall(pattern, source)
        assert uses, f"no handler relies on {entry_id} ({name})"


def test_rely_refuses_an_unregistered_id() -> None:
    with pytest.raises(KeyError, match="register it"):
        rely({}, "no-such-assumption")


# -- header, journal, counts ---------------------------------------------------------------------


def test_an_answer_names_what_it_rested_on_in_a_header_and_its_journal_entry(client: TestClient) -> None:
    doc = a_document(client)
    answer = client.get(f"/documents/{doc}", headers=auth(client))
    assert answer.status_code == 200
    assert relied(answer) == ["document-extra-fields"]
    entry = client.get("/_mock/journal").json()["entries"][-1]
    assert entry["path"] == f"/documents/{doc}" and entry["assumptions"] == ["document-extra-fields"]
    me = client.get("/me", headers=auth(client))
    assert HEADER not in me.headers  # the documented /me rests on nothing
    assert "assumptions" not in client.get("/_mock/journal").json()["entries"][-1]


def test_the_control_api_counts_each_assumption_with_its_first_request(client: TestClient) -> None:
    assert client.get("/_mock/assumptions").json() == []
    doc = a_document(client)
    headers = auth(client)
    first = client.get(f"/documents/{doc}", headers=headers)
    first_id = client.get("/_mock/journal").json()["last_id"]
    client.post(f"/documents/{doc}/status", json={"success": True}, headers=headers)
    report = client.get("/_mock/journal").json()["entries"][-1]
    assert report["assumptions"] == ["document-status-answer", "document-extra-fields"]
    assert relied(first) == ["document-extra-fields"]
    listed = {a["id"]: a for a in client.get("/_mock/assumptions").json()}
    assert list(listed) == ["document-extra-fields", "document-status-answer"]  # first relied on first
    extra = listed["document-extra-fields"]
    assert extra["count"] == 2
    assert extra["first"] == {
        "journal_id": first_id,
        "method": "GET",
        "path": f"/documents/{doc}",
        "at": ctx_of(client).clock.now(),
        "iso": extra["first"]["iso"],
    }
    assert extra["first"]["iso"].endswith("Z") or "+" in extra["first"]["iso"]
    assert extra["leniency"] == "more lenient" and extra["invented"] is True and extra["served"] is True
    assert extra["verify"] and extra["source"] and extra["docs"] == "docs/assumptions.md#document-extra-fields"
    assert listed["document-status-answer"]["first"]["method"] == "POST"


def test_all_lists_every_registered_assumption_and_reset_clears_the_counts(client: TestClient) -> None:
    client.get("/webhooks", headers=auth(client, "organization"))
    everything = client.get("/_mock/assumptions", params={"all": "true"}).json()
    assert [a["id"] for a in everything] == list(all_assumptions())
    counts = {a["id"]: a["count"] for a in everything}
    assert counts["webhook-crud"] == 1 and counts["patients-any-scope"] == 0
    assert next(a for a in everything if a["id"] == "patients-any-scope")["first"] is None
    assert client.post("/_mock/reset").status_code == 200
    assert client.get("/_mock/assumptions").json() == []
    bad = client.get("/_mock/assumptions", params={"all": "maybe"})
    assert bad.status_code == 400 and "'all'" in bad.json()["detail"]


def test_webhook_patient_note_and_collection_answers_name_their_assumptions(client: TestClient) -> None:
    org = auth(client, "organization")
    created = client.post("/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": EVENTS}, headers=org)
    assert relied(created) == ["webhook-create-answer", "webhook-organization-scope"]
    listed = client.get("/webhooks", headers=org)
    assert relied(listed) == ["webhook-crud", "webhook-organization-scope", "collection-json-array"]
    hydra = client.get("/webhooks", headers={**org, "Accept": "application/ld+json"})
    assert relied(hydra) == ["webhook-crud", "webhook-organization-scope"]  # Hydra is API Platform's own shape
    refused = client.delete(f"/webhooks/{created.json()['uuid']}", headers=auth(client, "profile"))
    assert refused.status_code == 403 and relied(refused) == ["webhook-crud", "webhook-organization-scope"]
    patients = client.get("/patients", headers=auth(client, "profile"))
    assert relied(patients) == ["patients-any-scope", "collection-json-array"]
    one = client.get(f"/patients/{patients.json()[0]['uuid']}", headers=auth(client, "profile"))
    assert relied(one) == ["patient-read-one", "patients-any-scope"]
    notes = client.get("/notes", headers=auth(client, "read:notes"))
    assert relied(notes) == ["note-audio-field", "collection-json-array"]


# -- --documented-only ---------------------------------------------------------------------------


def test_documented_only_turns_invented_operations_into_unknown_routes(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(documented_only=True)
    org = auth(client, "organization")
    created = client.post("/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": EVENTS}, headers=org)
    assert created.status_code == 201  # documented
    uuid = created.json()["uuid"]
    listed = client.get("/webhooks", headers=org)
    assert listed.status_code == 405 and listed.headers["allow"] == "POST"  # as Symfony answers a POST-only path
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        answer = client.request(method, f"/webhooks/{uuid}", headers=org, json={})
        assert answer.status_code == 404, (method, answer.text)
        assert "No route found" in answer.json()["detail"]
    assert client.get("/.well-known/jwks.json").status_code == 404
    patients = client.get("/patients", headers=org).json()
    assert client.get(f"/patients/{patients[0]['uuid']}", headers=org).status_code == 404
    everything = {a["id"]: a for a in client.get("/_mock/assumptions?all=1").json()}
    assert everything["webhook-crud"]["served"] is False and everything["patients-any-scope"]["served"] is True


def test_documented_only_leaves_invented_fields_out_of_answers_payloads_and_openapi(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(documented_only=True)
    doc = a_document(client)
    headers = auth(client)
    for answer in (
        client.get(f"/documents/{doc}", headers=headers),
        client.post(f"/documents/{doc}/status", json={"success": True}, headers=headers),
    ):
        assert answer.status_code == 200
        assert not {"title", "validatedAt", "synchronizedAt", "lastError"} & set(answer.json())
        assert {"uuid", "type", "state", "patient", "pdf"} <= set(answer.json())
        assert "document-extra-fields" not in relied(answer)
    listed = client.get("/documents", headers=headers).json()
    assert listed and all("title" not in d for d in listed)
    note = client.get("/notes", headers=headers).json()[0]
    assert "audio" not in note
    (event,) = [e for e in ctx_of(client).store.events if e["payload"]["id"] == doc]
    assert "title" not in event["payload"]["metadata"]["document"]
    document = client.get("/openapi.json").json()
    assert "/webhooks/{uuid}" not in document["paths"] and "/.well-known/jwks.json" not in document["paths"]
    assert list(document["paths"]["/webhooks"]) == ["post"]
    assert "title" not in document["components"]["schemas"]["document"]["properties"]
    assert "validatedAt" not in document["components"]["schemas"]["document"]["required"]


def test_by_default_the_invented_surface_is_served(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert {"get", "put", "patch", "delete"} <= set(document["paths"]["/webhooks/{uuid}"])
    assert "title" in document["components"]["schemas"]["document"]["properties"]


# -- webhook URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "flagged"),
    [
        ("https://hooks.example.org/askara", False),
        ("http://127.0.0.1:9000/hook", False),
        ("http://127.8.9.10/hook", False),
        ("http://localhost:9000/hook", False),
        ("http://api.localhost/hook", False),
        ("http://[::1]:9000/hook", False),
        ("http://[::ffff:127.0.0.1]:9000/hook", False),
        ("http://hooks.example.org/askara", True),
        ("http://10.0.0.5/hook", True),
        ("http://0.0.0.0:9000/hook", True),
        ("HTTP://hooks.example.org/askara", True),
    ],
)
def test_plain_http_off_loopback_is_flagged(url: str, flagged: bool) -> None:
    assert bool(url_warnings(url)) is flagged


def test_a_flagged_url_is_accepted_with_a_warning_header_and_shown_on_the_record(client: TestClient) -> None:
    org = auth(client, "organization")
    created = client.post("/webhooks", json={"url": "http://hooks.example.org/a", "events": EVENTS}, headers=org)
    assert created.status_code == 201
    assert created.headers[WARNING_HEADER].startswith("plain-http: ")
    uuid = created.json()["uuid"]
    assert WARNING_HEADER not in client.get(f"/webhooks/{uuid}", headers=org).headers  # only what stored it
    record = next(w for w in client.get("/_mock/webhooks").json()["items"] if w["uuid"] == uuid)
    assert record["warnings"] and record["warnings"][0].startswith("plain-http: ")
    fixed = client.patch(
        f"/webhooks/{uuid}", json={"url": "https://hooks.example.org/a"},
        headers={**org, "Content-Type": "application/merge-patch+json"},
    )  # fmt: skip
    assert fixed.status_code == 200 and WARNING_HEADER not in fixed.headers
    assert next(w for w in client.get("/_mock/webhooks").json()["items"] if w["uuid"] == uuid)["warnings"] == []
    again = client.put(f"/webhooks/{uuid}", json={"url": "http://hooks.example.org/b", "events": EVENTS}, headers=org)
    assert again.status_code == 200 and again.headers[WARNING_HEADER].startswith("plain-http: ")
    assert "warnings" not in again.json()  # never in the public body: Askara has no such field


# -- the harness waits out either reading of the retry schedule -----------------------------------


@pytest.mark.parametrize(
    ("reading", "count", "offsets"),
    [("gaps", "retries", [0, 5, 15, 35]), ("offsets", "attempts", [0, 5, 10])],
)
def test_deliveries_settled_drives_the_clock_through_either_retry_reading(
    live_mock, reading: str, count: str, offsets: list[int]  # type: ignore[no-untyped-def]
) -> None:
    running: RunningMock = live_mock(retry_reading=reading, retry_count=count)
    mock = MockClient(running.url)
    try:
        hook = mock.register_webhook(f"http://127.0.0.1:{free_port()}/nobody-listens", EVENTS)
        mock.post("/_mock/documents", {"validate": True})
        runtime = StepRuntime(
            mock, Observation("retry-reading", "webhook", hook["uuid"], False), hook["uuid"],
            time.monotonic() + 20, lambda: None,
        )  # fmt: skip
        run_step(runtime, {"wait": {"until": "deliveries-settled", "timeout": 15}})
        (delivery,) = runtime.deliveries()
        assert delivery["state"] == "failed"
        first = delivery["attempts"][0]["scheduled_at"]
        assert [a["scheduled_at"] - first for a in delivery["attempts"]] == offsets
        assert not runtime.observation.step_problems
    finally:
        mock.close()
