"""``/documents``: verified documents only, filters, status reports, events, determinism."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from conftest import access_token
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from mock_server import domain
from mock_server.core.errors import Conflict
from mock_server.web.validation import load_schema

ALL = "read:documents write:document_integrations"


def _auth(client: TestClient, scope: str = ALL) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(client, scope)}"}


def _ctx(client: TestClient) -> Any:
    return client.app.state.mock  # type: ignore[attr-defined]


def _no_private_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(not str(k).startswith("_") and _no_private_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_no_private_keys(v) for v in value)
    return True


def test_list_serves_verified_documents_with_patient_and_pdf(client: TestClient) -> None:
    response = client.get("/documents", headers=_auth(client))
    assert response.status_code == 200
    docs = response.json()
    assert isinstance(docs, list) and len(docs) == _ctx(client).settings.seed_documents
    validator = Draft202012Validator(load_schema("document"))
    for doc in docs:
        assert list(validator.iter_errors(doc)) == []
        assert doc["state"] == "verified" and doc["validatedAt"]
        assert doc["pdf"]["url"].startswith("http://127.0.0.1:8766/askara-documents/")
        assert doc["pdf"]["fileName"].endswith(".pdf")
        assert set(doc["patient"]) >= {"uuid", "externalId", "firstName", "lastName"}
    assert _no_private_keys(docs)
    assert {d["type"] for d in docs} <= set(domain.DOCUMENT_TYPES)
    created = [d["createdAt"] for d in docs]
    assert created == sorted(created)


def test_synchronized_filter_partitions_the_list(client: TestClient) -> None:
    headers = _auth(client)
    everything = {d["uuid"] for d in client.get("/documents", headers=headers).json()}
    pending = client.get("/documents?synchronized=false", headers=headers).json()
    done = client.get("/documents?synchronized=true", headers=headers).json()
    assert all(not d["synchronized"] for d in pending) and all(d["synchronized"] for d in done)
    assert {d["uuid"] for d in pending} | {d["uuid"] for d in done} == everything
    assert pending and done, "the seed has both synchronized and unsynchronized documents"


def test_other_filters_and_order(client: TestClient) -> None:
    headers = _auth(client)
    docs = client.get("/documents", headers=headers).json()
    patient = docs[0]["patient"]["uuid"]
    expected = [d["uuid"] for d in docs if d["patient"]["uuid"] == patient]
    for value in (patient, f"/patients/{patient}"):
        found = client.get("/documents", params={"patient": value}, headers=headers).json()
        assert [d["uuid"] for d in found] == expected
    letters = client.get("/documents", params={"type": "referral_letter"}, headers=headers).json()
    assert [d["uuid"] for d in letters] == [d["uuid"] for d in docs if d["type"] == "referral_letter"]
    newest_first = client.get("/documents", params={"order[validatedAt]": "desc"}, headers=headers).json()
    assert [d["validatedAt"] for d in newest_first] == sorted((d["validatedAt"] for d in docs), reverse=True)
    pivot = sorted(d["validatedAt"] for d in docs)[len(docs) // 2]
    later = client.get("/documents", params={"validatedAt[strictly_after]": pivot}, headers=headers).json()
    assert {d["uuid"] for d in later} == {d["uuid"] for d in docs if d["validatedAt"] > pivot}
    ignored = client.get("/documents", params={"colour": "blue"}, headers=headers).json()
    assert len(ignored) == len(docs)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"synchronized": "maybe"}, "synchronized"),
        ({"createdAt[after]": "notadate"}, "createdAt[after]"),
        ({"order[createdAt]": "sideways"}, "order[createdAt]"),
        ({"order[title]": "asc"}, "order[title]"),
        ({"page": "0"}, "page"),
        ({"itemsPerPage": "abc"}, "itemsPerPage"),
        ({"itemsPerPage": "-1"}, "itemsPerPage"),
    ],
)
def test_bad_query_values_are_400_naming_the_parameter(
    client: TestClient, params: dict[str, str], parameter: str
) -> None:
    response = client.get("/documents", params=params, headers=_auth(client))
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyPath"] == parameter
    assert parameter in response.json()["detail"]


def test_scopes(client: TestClient) -> None:
    doc = client.get("/documents", headers=_auth(client)).json()[0]
    for path in ("/documents", f"/documents/{doc['uuid']}"):
        response = client.get(path, headers=_auth(client, "read:notes profile"))
        assert response.status_code == 403
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
        assert 'scope="read:documents"' in response.headers["www-authenticate"]
    reader = _auth(client, "read:documents")
    report = client.post(f"/documents/{doc['uuid']}/status", json={"success": True}, headers=reader)
    assert report.status_code == 403
    assert 'scope="write:document_integrations"' in report.headers["www-authenticate"]
    assert client.get("/documents").status_code == 401


def test_get_one_and_404s(client: TestClient) -> None:
    headers = _auth(client)
    doc = client.get("/documents", headers=headers).json()[0]
    one = client.get(f"/documents/{doc['uuid']}", headers=headers)
    assert one.status_code == 200 and one.json()["uuid"] == doc["uuid"]
    assert client.get(f"/documents/{uuid.uuid4()}", headers=headers).status_code == 404
    malformed = client.get("/documents/12345", headers=headers)
    assert malformed.status_code == 404 and "not a valid UUID" in malformed.json()["detail"]
    ld = client.get(f"/documents/{doc['uuid']}", headers={**headers, "Accept": "application/ld+json"}).json()
    assert (ld["@context"], ld["@id"], ld["@type"]) == ("/contexts/Document", f"/documents/{doc['uuid']}", "Document")


def test_draft_is_invisible_until_validated(client: TestClient) -> None:
    ctx = _ctx(client)
    headers = _auth(client)
    draft = domain.new_document(ctx)
    assert draft["state"] == "draft"
    assert draft["uuid"] not in {d["uuid"] for d in client.get("/documents", headers=headers).json()}
    assert client.get(f"/documents/{draft['uuid']}", headers=headers).status_code == 404
    assert client.post(f"/documents/{draft['uuid']}/status", json={"success": True}, headers=headers).status_code == 404
    with pytest.raises(Conflict):
        domain.synchronize_document(ctx, draft)
    event = domain.validate_document(ctx, draft)
    payload = event["payload"]
    assert (payload["id"], payload["resource_type"], payload["action"]) == (draft["uuid"], "document", "new_document")
    document = payload["metadata"]["document"]
    assert document["state"] == "verified" and document["synchronized"] is False
    assert payload["resource_metadata"] == {"user_id": draft["_user_id"], "organization_id": draft["_organization_id"]}
    listed = client.get("/documents?synchronized=false", headers=headers).json()
    assert draft["uuid"] in {d["uuid"] for d in listed}
    with pytest.raises(Conflict, match="already 'verified'"):
        domain.validate_document(ctx, draft)
    again = domain.synchronize_document(ctx, draft)
    assert again["payload"]["action"] == "document_synchronize"


def test_event_freezes_the_link_while_the_api_renews_it(client: TestClient) -> None:
    ctx = _ctx(client)
    doc = domain.new_document(ctx)
    event = domain.validate_document(ctx, doc)
    frozen = event["payload"]["metadata"]["document"]["pdf"]["url"]
    ctx.clock.advance(3601)
    assert client.get(frozen).status_code == 403
    fresh = client.get(f"/documents/{doc['uuid']}", headers=_auth(client)).json()["pdf"]["url"]
    assert fresh != frozen
    assert client.get(fresh).status_code == 200


def test_status_success_then_failure(client: TestClient) -> None:
    ctx = _ctx(client)
    headers = _auth(client)
    doc = client.get("/documents?synchronized=false", headers=headers).json()[0]
    url = f"/documents/{doc['uuid']}/status"
    ok = client.post(url, json={"success": True, "directory": "soft", "path": "C:\\Docs\\a.pdf"}, headers=headers)
    assert ok.status_code == 200
    assert ok.json()["synchronized"] is True and ok.json()["synchronizedAt"] is not None
    assert doc["uuid"] in {d["uuid"] for d in client.get("/documents?synchronized=true", headers=headers).json()}
    failed = client.post(url, json={"success": False, "error": "Database connection timeout"}, headers=headers)
    assert failed.status_code == 200
    assert failed.json()["synchronized"] is False and failed.json()["lastError"] == "Database connection timeout"
    assert doc["uuid"] in {d["uuid"] for d in client.get("/documents?synchronized=false", headers=headers).json()}
    reports = [r for r in ctx.store.status_reports if r["document_uuid"] == doc["uuid"]]
    assert [r["success"] for r in reports] == [True, False]
    first = reports[0]
    assert first["directory"] == "soft" and first["path"] == "C:\\Docs\\a.pdf" and first["error"] is None
    assert first["client_id"] == ctx.settings.client_id and first["token_jti"]
    assert first["body"] == {"success": True, "directory": "soft", "path": "C:\\Docs\\a.pdf"}
    assert isinstance(first["at"], float) and isinstance(first["wall"], float)


@pytest.mark.parametrize(
    ("body", "path"),
    [({}, "success"), ({"success": "yes"}, "success"), ({"success": True, "message": "x"}, "message"),
     ({"success": False, "error": 42}, "error"), ({"success": True, "path": "x" * 5000}, "path")],
)  # fmt: skip
def test_status_body_is_validated(client: TestClient, body: dict[str, Any], path: str) -> None:
    headers = _auth(client)
    doc = client.get("/documents", headers=headers).json()[0]
    response = client.post(f"/documents/{doc['uuid']}/status", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["violations"][0]["propertyPath"] == path
    assert not _ctx(client).store.status_reports.values()


def test_status_on_unknown_document(client: TestClient) -> None:
    headers = _auth(client)
    assert client.post(f"/documents/{uuid.uuid4()}/status", json={"success": True}, headers=headers).status_code == 404
    assert client.post("/documents/nope/status", json={"success": True}, headers=headers).status_code == 404


def _documents_body(client: TestClient) -> Any:
    return client.get("/documents", headers=_auth(client, "read:documents")).json()


def test_same_seed_same_documents_other_seed_other_documents(app_client: Any) -> None:
    same = {"seed": 7, "url_signing_secret": "fixed"}
    first = _documents_body(app_client(**same))
    second = _documents_body(app_client(**same))
    assert first == second
    other = _documents_body(app_client(seed=8, url_signing_secret="fixed"))
    assert [d["uuid"] for d in other] != [d["uuid"] for d in first]
