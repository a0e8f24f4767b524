"""The /_mock control API: credentials, documents, Synchronize, notes, clock, journal, reset."""

from __future__ import annotations

import uuid

from conftest import TEST_SECRET, access_token
from starlette.testclient import TestClient

from mock_server.web.validation import validate


def ctx_of(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.mock  # type: ignore[attr-defined]


def draft(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post("/_mock/documents", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_credentials_issue_a_fresh_working_refresh_token_each_call(client: TestClient) -> None:
    first = client.get("/_mock/credentials").json()
    second = client.get("/_mock/credentials").json()
    assert first["client_id"] == "askara-mock-client"
    assert first["client_secret"] == TEST_SECRET
    assert first["webhook_secret"] is None
    assert first["api_url"] == "http://127.0.0.1:8765"
    assert first["token_url"] == "http://127.0.0.1:8765/oauth2/token"
    assert first["refresh_token"] != second["refresh_token"]
    assert set(first["scope"].split()) >= {"read:documents", "write:document_integrations", "read:notes"}
    token = client.post(
        "/oauth2/token",
        json={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
              "client_id": first["client_id"], "client_secret": first["client_secret"]},
    )
    assert token.status_code == 200, token.text
    assert token.json()["refresh_token"] != first["refresh_token"]


def test_credentials_scope_narrows_and_rejects_unknown(client: TestClient) -> None:
    narrow = client.get("/_mock/credentials", params={"scope": "read:documents"}).json()
    assert narrow["scope"] == "read:documents"
    assert ctx_of(client).store.refresh_tokens.get(narrow["refresh_token"])["scopes"] == ["read:documents"]
    bad = client.get("/_mock/credentials", params={"scope": "read:documents admin"})
    assert bad.status_code == 400
    assert bad.json()["violations"][0]["propertyPath"] == "scope"


def test_create_document_is_a_draft_and_fires_nothing(client: TestClient) -> None:
    events_before = len(ctx_of(client).store.events)
    body = draft(client, type="referral_letter", title="Lettre")
    assert body["event"] is None
    assert body["document"]["state"] == "draft"
    assert body["document"]["type"] == "referral_letter"
    assert body["document"]["title"] == "Lettre"
    assert len(ctx_of(client).store.events) == events_before


def test_create_document_with_validate_fires_new_document(client: TestClient) -> None:
    patient = ctx_of(client).store.patients.values()[0]["uuid"]
    body = draft(client, validate=True, patient=patient)
    assert body["document"]["state"] == "verified"
    assert body["document"]["patient"]["uuid"] == patient
    payload = body["event"]["payload"]
    assert payload["action"] == "new_document"
    assert payload["id"] == body["document"]["uuid"]
    assert validate("webhook-event", {"events": [payload], "meta": {"webhook_id": str(uuid.uuid4())}}) == []


def test_create_document_rejects_unknown_patient_and_bad_fields(client: TestClient) -> None:
    unknown = client.post("/_mock/documents", json={"patient": str(uuid.uuid4())})
    assert unknown.status_code == 422
    assert unknown.json()["violations"][0]["propertyPath"] == "patient"
    bad = client.post("/_mock/documents", json={"validate": "yes", "colour": 1})
    assert bad.status_code == 422
    assert {v["propertyPath"] for v in bad.json()["violations"]} == {"validate", "colour"}


def test_create_document_without_body(client: TestClient) -> None:
    assert client.post("/_mock/documents").status_code == 201


def test_validate_then_conflict(client: TestClient) -> None:
    doc = draft(client)["document"]
    first = client.post(f"/_mock/documents/{doc['uuid']}/validate")
    assert first.status_code == 200
    assert first.json()["event"]["payload"]["action"] == "new_document"
    again = client.post(f"/_mock/documents/{doc['uuid']}/validate")
    assert again.status_code == 409
    assert client.post(f"/_mock/documents/{uuid.uuid4()}/validate").status_code == 404


def test_synchronize_cooldown_on_the_mock_clock(client: TestClient) -> None:
    doc = draft(client)["document"]
    path = f"/_mock/documents/{doc['uuid']}/synchronize"
    assert client.post(path).status_code == 409  # a draft cannot be synchronized
    client.post(f"/_mock/documents/{doc['uuid']}/validate")
    first = client.post(path)
    assert first.status_code == 200
    assert first.json()["event"]["payload"]["action"] == "document_synchronize"
    client.post("/_mock/clock/advance", json={"seconds": 10})
    limited = client.post(path)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "20"
    assert limited.headers["content-type"].startswith("application/problem+json")
    client.post("/_mock/clock/advance", json={"seconds": 20})
    assert client.post(path).status_code == 200
    actions = [e["payload"]["action"] for e in client.get("/_mock/events", params={"id": doc["uuid"]}).json()["items"]]
    assert actions == ["new_document", "document_synchronize", "document_synchronize"]


def test_create_note_fires_new_note(client: TestClient) -> None:
    response = client.post("/_mock/notes", json={"type": "consultation_summary", "content": "Patient vu ce jour."})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["note"]["content"] == "Patient vu ce jour."
    payload = body["event"]["payload"]
    assert payload["action"] == "new_note"
    assert payload["resource_type"] == "note"
    assert validate("webhook-event", {"events": [payload], "meta": {"webhook_id": str(uuid.uuid4())}}) == []
    notes = client.get("/_mock/events", params={"action": "new_note"}).json()["items"]
    assert notes[-1]["payload"]["id"] == payload["id"]


def test_clock_advance_and_read(client: TestClient) -> None:
    start = client.get("/_mock/clock").json()
    assert start["mode"] == "manual"
    moved = client.post("/_mock/clock/advance", json={"seconds": 3600.5, "wait": True}).json()
    assert moved["now"] == start["now"] + 3600.5
    assert client.get("/_mock/clock").json()["now"] == moved["now"]
    for body, field in (({"seconds": -1}, "seconds"), ({}, "seconds"), ({"seconds": "10"}, "seconds")):
        response = client.post("/_mock/clock/advance", json=body)
        assert response.status_code == 422
        assert response.json()["violations"][0]["propertyPath"] == field


def test_status_reports_filter(client: TestClient) -> None:
    store = ctx_of(client).store.status_reports
    a, b = "0b3c4d5e-0000-4000-8000-00000000000a", "0b3c4d5e-0000-4000-8000-00000000000b"
    for index, doc in enumerate((a, b, a)):
        store.put(str(index), {"id": str(index), "document_uuid": doc, "success": True})
    assert [r["id"] for r in client.get("/_mock/status-reports").json()["items"]] == ["0", "1", "2"]
    of_a = client.get("/_mock/status-reports", params={"document": a.upper()}).json()["items"]
    assert [r["id"] for r in of_a] == ["0", "2"]
    for bad in ("", "a"):
        refused = client.get("/_mock/status-reports", params={"document": bad})
        assert refused.status_code == 400 and refused.json()["violations"][0]["propertyPath"] == "document"


def test_journal_records_public_calls_only_and_filters(client: TestClient) -> None:
    token = access_token(client, "organization")
    client.get("/webhooks", headers={"Authorization": f"Bearer {token}"})
    client.get("/nope")
    client.get("/openapi.json")
    client.get("/_mock/clock")
    journal = client.get("/_mock/journal").json()
    assert journal["dropped"] == 0
    paths = [e["path"] for e in journal["entries"]]
    assert paths == ["/webhooks", "/nope", "/openapi.json"]
    first_id = journal["entries"][0]["id"]
    assert [e["path"] for e in client.get("/_mock/journal", params={"since": first_id}).json()["entries"]] == [
        "/nope", "/openapi.json"]
    assert [e["path"] for e in client.get("/_mock/journal", params={"kind": "page"}).json()["entries"]] == [
        "/openapi.json"]
    assert [e["path"] for e in client.get("/_mock/journal", params={"path": "/web"}).json()["entries"]] == [
        "/webhooks"]
    limited = client.get("/_mock/journal", params={"limit": 1}).json()
    assert [e["path"] for e in limited["entries"]] == ["/webhooks"]
    assert limited["truncated"] is True
    assert limited["last_id"] == first_id
    for params in ({"since": "x"}, {"limit": "0"}, {"kind": "control"}):
        bad = client.get("/_mock/journal", params=params)
        assert bad.status_code == 400
        assert bad.json()["violations"][0]["propertyPath"] == next(iter(params))


def test_journal_reports_dropped_entries(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(journal_limit=2)
    for _ in range(5):
        client.get("/openapi.json")
    journal = client.get("/_mock/journal").json()
    assert len(journal["entries"]) == 2
    assert journal["dropped"] == 3


def test_documents_listing_shows_drafts_and_internal_state(client: TestClient) -> None:
    doc = draft(client)["document"]
    records = client.get("/_mock/documents").json()["items"]
    assert doc["uuid"] in [d["uuid"] for d in records]
    assert all("_last_sync_request" in d for d in records)
    drafts = client.get("/_mock/documents", params={"state": "draft"}).json()["items"]
    assert {d["state"] for d in drafts} == {"draft"}
    assert client.get(f"/_mock/documents/{doc['uuid']}").json()["state"] == "draft"
    assert client.get("/_mock/documents", params={"synchronized": "maybe"}).status_code == 400


def test_device_approve(client: TestClient) -> None:
    started = client.post(
        "/oauth2/device", json={"client_id": "askara-mock-client", "client_secret": TEST_SECRET, "scope": "profile"}
    )
    assert started.status_code == 200, started.text
    user_code = started.json()["user_code"]
    approved = client.post("/_mock/device/approve", json={"user_code": user_code})
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved"] is True
    record = next(r for r in ctx_of(client).store.device_codes if r["user_code"] == user_code)
    assert record["status"] == "approved"
    assert client.post("/_mock/device/approve", json={}).status_code == 422
    unknown = client.post("/_mock/device/approve", json={"user_code": "ZZZZ-ZZZZ"})
    assert 400 <= unknown.status_code < 500


def test_reset_goes_back_to_the_seeded_state(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(rate_limit_capacity=3)
    ctx = ctx_of(client)
    seeded = sorted(d["uuid"] for d in ctx.store.documents)
    seeded_patients = sorted(p["uuid"] for p in ctx.store.patients)
    token = access_token(client, "organization")
    headers = {"Authorization": f"Bearer {token}"}
    client.post("/webhooks", json={"url": "http://127.0.0.1/h", "events": ["new_note"]}, headers=headers)
    draft(client, validate=True)
    client.post("/_mock/notes")
    for _ in range(4):
        last = client.get("/webhooks", headers=headers)
    assert last.status_code == 429
    calls: list[str] = []
    ctx.reset_hooks.append(lambda: calls.append("reset"))
    client.post("/_mock/faults", json={"kind": "drain_bucket"})
    client.post("/_mock/faults", json={"kind": "download", "mode": "error", "count": 3})
    answer = client.post("/_mock/reset")
    assert answer.status_code == 200
    assert calls == ["reset"]
    assert client.get("/_mock/faults").json() in ([], {"items": []})  # faults are state too
    assert sorted(d["uuid"] for d in ctx.store.documents) == seeded
    assert sorted(p["uuid"] for p in ctx.store.patients) == seeded_patients
    assert len(ctx.store.webhooks) == 0
    assert len(ctx.store.journal) == 0
    fresh = access_token(client, "organization")
    assert client.get("/webhooks", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    assert client.get("/webhooks", headers=headers).status_code == 401  # old tokens are gone


def test_control_calls_are_not_rate_limited_or_journaled(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(rate_limit_capacity=1)
    for _ in range(5):
        assert client.get("/_mock/clock").status_code == 200
    assert "x-ratelimit-limit" not in client.get("/_mock/clock").headers
    assert client.get("/_mock/journal").json()["entries"] == []


def test_credentials_post_registers_the_refresh_token_of_an_already_running_integration(client) -> None:
    given = "def502" + "ab" * 40
    answer = client.post("/_mock/credentials", json={"refresh_token": given})
    assert answer.status_code == 200, answer.text
    assert answer.json()["refresh_token"] == given
    token = client.post(
        "/oauth2/token",
        json={"grant_type": "refresh_token", "refresh_token": given, "client_id": answer.json()["client_id"],
              "client_secret": answer.json()["client_secret"]},
    )
    assert token.status_code == 200, token.text
    again = client.post("/_mock/credentials", json={"refresh_token": given})
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    bad = client.post("/_mock/credentials", json={"refresh_token": "short"})
    assert bad.status_code == 422
    assert bad.json()["violations"][0]["propertyPath"] == "refresh_token"


def test_events_and_status_reports_are_bounded_and_say_what_they_dropped(app_client) -> None:
    client = app_client(delivery_limit=3, journal_limit=5)
    for _ in range(5):
        assert client.post("/_mock/notes").status_code == 201
    answer = client.get("/_mock/events")
    assert len(answer.json()["items"]) == 3 and answer.json()["dropped"] == 2
    assert answer.headers["X-Askara-Mock-Dropped"] == "2"
    assert client.get("/_mock/status-reports").headers["X-Askara-Mock-Dropped"] == "0"
