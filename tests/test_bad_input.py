"""A table of bad inputs across the public and control API: each is a 4xx problem naming what is wrong.

Every row answers ``application/problem+json`` (or ``application/ld+json`` when asked) with
``title``, ``detail`` and ``status``; rows about a body also name the field in ``violations``.
No row may produce a 5xx.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from conftest import access_token
from starlette.testclient import TestClient

UNKNOWN = str(uuid.UUID(int=1))
JSON_CT = {"Content-Type": "application/json"}
TEXT_CT = {"Content-Type": "text/plain"}
HOOK = {"url": "http://127.0.0.1:9000/hook", "events": ["new_document"]}


def nested(depth: int) -> object:
    """``depth`` levels of containers: lists inside an object, the innermost empty."""
    value: object = []
    for _ in range(depth - 2):
        value = [value]
    return {"deep": value}


DEEP = nested(300)  # parsed (orjson reads 1024 levels) but beyond what can be written back (254)


@dataclass(frozen=True)
class Row:
    id: str
    method: str
    path: str
    status: int
    json: object = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    violation: str | None = None
    """A ``violations[].propertyPath`` the answer must name."""
    scope: str | None = "all"
    """Scope of the bearer token sent (``all``: every scope; None: no token)."""


ROWS = [
    # malformed JSON, empty bodies, wrong content types
    Row("webhook-malformed-json", "POST", "/webhooks", 400, content=b'{"url": ', headers=JSON_CT),
    Row("webhook-empty-body", "POST", "/webhooks", 400, content=b"", headers=JSON_CT),
    Row("webhook-form-body", "POST", "/webhooks", 415, content=b"url=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"}),
    Row("webhook-no-content-type", "POST", "/webhooks", 415, content=b"{}"),
    Row("status-malformed-json", "POST", "/documents/{document}/status", 400, content=b"{success: true}",
        headers=JSON_CT),
    Row("patient-text-plain", "POST", "/patients", 415, content=b"{}", headers=TEXT_CT),
    Row("control-doc-malformed", "POST", "/_mock/documents", 400, content=b"[1,", headers=JSON_CT),
    Row("clock-text-plain", "POST", "/_mock/clock/advance", 415, content=b"seconds=1", headers=TEXT_CT),
    # nesting beyond the limit (MAX_JSON_DEPTH), wherever a JSON body is read
    Row("send-event-too-deep", "POST", "/_mock/webhooks/{webhook}/send", 400, violation="", scope=None,
        json={"events": [{"id": UNKNOWN, "resource_type": "document", "action": "new_document", "metadata": DEEP}]}),
    Row("status-too-deep", "POST", "/documents/{document}/status", 400, json={"success": True, "error": DEEP},
        violation=""),
    # wrong types and missing fields
    Row("webhook-url-number", "POST", "/webhooks", 422, json={**HOOK, "url": 42}, violation="url"),
    Row("webhook-events-missing", "POST", "/webhooks", 422, json={"url": HOOK["url"]}, violation="events"),
    Row("webhook-active-string", "POST", "/webhooks", 422, json={**HOOK, "active": "true"}, violation="active"),
    Row("webhook-body-array", "POST", "/webhooks", 422, json=[HOOK]),
    Row("webhook-scheme", "POST", "/webhooks", 422, json={**HOOK, "url": "javascript:alert(1)"}, violation="url"),
    Row("status-missing-success", "POST", "/documents/{document}/status", 422, json={"error": "x"},
        violation="success"),
    Row("status-success-string", "POST", "/documents/{document}/status", 422, json={"success": "true"},
        violation="success"),
    Row("patient-missing-names", "POST", "/patients", 422, json={"email": "a@example.org"}, violation="firstName"),
    Row("control-doc-validate-type", "POST", "/_mock/documents", 422, json={"validate": 1}, violation="validate"),
    Row("control-doc-bad-patient", "POST", "/_mock/documents", 422, json={"patient": "nope"}, violation="patient"),
    Row("control-note-unknown-field", "POST", "/_mock/notes", 422, json={"audio": "x"}, violation="audio"),
    Row("clock-negative", "POST", "/_mock/clock/advance", 422, json={"seconds": -5}, violation="seconds"),
    Row("clock-too-far", "POST", "/_mock/clock/advance", 422, json={"seconds": 1e12}, violation="seconds"),
    Row("device-approve-missing", "POST", "/_mock/device/approve", 422, json={}, violation="user_code"),
    Row("fault-missing-kind", "POST", "/_mock/faults", 422, json={}, violation="kind"),
    # unknown and invalid uuids
    Row("document-unknown", "GET", f"/documents/{UNKNOWN}", 404),
    Row("document-invalid-uuid", "GET", "/documents/not-a-uuid", 404),
    Row("note-unknown", "GET", f"/notes/{UNKNOWN}", 404),
    Row("patient-invalid-uuid", "GET", "/patients/%27;--", 404),
    Row("webhook-unknown", "GET", f"/webhooks/{UNKNOWN}", 404),
    Row("webhook-delete-invalid", "DELETE", "/webhooks/123", 404),
    Row("status-unknown-document", "POST", f"/documents/{UNKNOWN}/status", 404, json={"success": True}),
    Row("control-validate-unknown", "POST", f"/_mock/documents/{UNKNOWN}/validate", 404),
    Row("control-sync-unknown", "POST", f"/_mock/documents/{UNKNOWN}/synchronize", 404),
    Row("control-document-unknown", "GET", f"/_mock/documents/{UNKNOWN}", 404),
    Row("unknown-route", "GET", "/nothing-here", 404),
    Row("document-uuid-braces", "GET", "/documents/{{{document}}}", 404),
    Row("document-uuid-urn", "GET", "/documents/urn:uuid:{document}", 404),
    Row("document-uuid-no-dashes", "GET", "/documents/{document_hex}", 404),
    Row("document-invalid-uuid-no-token", "GET", "/documents/not-a-uuid", 404, scope=None),
    Row("trailing-slash-post", "POST", "/webhooks/", 404, json=HOOK),
    Row("trailing-slash-delete", "DELETE", "/webhooks/{webhook}/", 404),
    Row("audio-unknown", "GET", f"/audios/{UNKNOWN}", 404),
    Row("audio-invalid-uuid", "GET", "/audios/123", 404),
    # wrong methods
    Row("documents-delete", "DELETE", "/documents", 405),
    Row("document-put", "PUT", "/documents/{document}", 405, json={}),
    Row("notes-post", "POST", "/notes", 405, json={}),
    Row("status-get", "GET", "/documents/{document}/status", 405),
    Row("webhooks-delete-collection", "DELETE", "/webhooks", 405),
    Row("control-reset-get", "GET", "/_mock/reset", 405),
    Row("control-clock-delete", "DELETE", "/_mock/clock", 405),
    Row("me-post", "POST", "/me", 405),
    Row("me-put", "PUT", "/me", 405),
    Row("audios-post", "POST", "/audios", 405, json={}),
    Row("document-put-malformed-uuid", "PUT", "/documents/not-a-uuid", 404, json={}),
    # content negotiation
    Row("documents-accept-html", "GET", "/documents", 406, headers={"Accept": "text/html"}),
    Row("me-accept-xml", "GET", "/me", 406, headers={"Accept": "application/xml"}),
    Row("documents-accept-json-q0", "GET", "/documents", 406, headers={"Accept": "application/json;q=0"}),
    Row("status-merge-patch", "POST", "/documents/{document}/status", 415, content=b'{"success": true}',
        headers={"Content-Type": "application/merge-patch+json"}),
    Row("webhook-post-merge-patch", "POST", "/webhooks", 415, content=b"{}",
        headers={"Content-Type": "application/merge-patch+json"}),
    Row("webhook-patch-json", "PATCH", "/webhooks/{webhook}", 415, json={"active": False}),
    # bad query parameters
    Row("documents-page-zero", "GET", "/documents", 400, params={"page": "0"}, violation="page"),
    Row("documents-page-text", "GET", "/documents", 400, params={"page": "two"}, violation="page"),
    Row("documents-items-negative", "GET", "/documents", 400, params={"itemsPerPage": "-1"}, violation="itemsPerPage"),
    Row("documents-synchronized-maybe", "GET", "/documents", 400, params={"synchronized": "maybe"},
        violation="synchronized"),
    Row("documents-order-sideways", "GET", "/documents", 400, params={"order[createdAt]": "sideways"},
        violation="order[createdAt]"),
    Row("notes-date-garbage", "GET", "/notes", 400, params={"createdAt[after]": "yesterday-ish"},
        violation="createdAt[after]"),
    Row("documents-synchronized-python-false", "GET", "/documents", 400, params={"synchronized": "False"},
        violation="synchronized"),
    Row("documents-synchronized-upper", "GET", "/documents", 400, params={"synchronized": "TRUE"},
        violation="synchronized"),
    Row("documents-synchronized-brackets", "GET", "/documents", 400, params={"synchronized[]": "true"},
        violation="synchronized[]"),
    Row("documents-range-operator", "GET", "/documents", 400, params={"createdAt[gte]": "2026-01-01"},
        violation="createdAt[gte]"),
    Row("documents-date-no-operator", "GET", "/documents", 400, params={"createdAt": "2026-01-01"},
        violation="createdAt"),
    Row("documents-patient-empty", "GET", "/documents", 400, params={"patient": ""}, violation="patient"),
    Row("documents-patient-not-uuid", "GET", "/documents", 400, params={"patient": "42"}, violation="patient"),
    Row("documents-order-no-field", "GET", "/documents", 400, params={"order": "asc"}, violation="order"),
    Row("notes-range-operator", "GET", "/notes", 400, params={"createdAt[between]": "2026-01-01..2026-02-01"},
        violation="createdAt[between]"),
    Row("notes-audio-empty", "GET", "/notes", 400, params={"audio": ""}, violation="audio"),
    Row("notes-date-words", "GET", "/notes", 400, params={"createdAt[after]": "yesterday"},
        violation="createdAt[after]"),
    Row("patients-date-filter-operator", "GET", "/patients", 400, params={"createdAt[after]": "2026-01-01"},
        violation="createdAt[after]"),
    Row("patients-between-no-range", "GET", "/patients", 400, params={"createdAt[between]": "2026-01-01"},
        violation="createdAt[between]"),
    Row("patients-id-not-mocked", "GET", "/patients", 400, params={"id": "3"}, violation="id"),
    Row("patients-client-not-mocked", "GET", "/patients", 400, params={"client": "x"}, violation="client"),
    Row("patients-order-id-not-mocked", "GET", "/patients", 400, params={"order[id]": "asc"}, violation="order[id]"),
    Row("patients-user-uuid-bad", "GET", "/patients", 400, params={"user.uuid": "me"}, violation="user.uuid"),
    Row("patients-external-created-bad", "GET", "/patients", 400, params={"externalCreatedAt": "2020"},
        violation="externalCreatedAt"),
    Row("patients-search-brackets", "GET", "/patients", 400, params={"search[]": "x"}, violation="search[]"),
    Row("audios-exists-python-true", "GET", "/audios", 400, params={"exists[archivedAt]": "True"},
        violation="exists[archivedAt]"),
    Row("audios-exists-unknown-field", "GET", "/audios", 400, params={"exists[patient]": "true"},
        violation="exists[patient]"),
    Row("audios-date-filter-operator", "GET", "/audios", 400, params={"createdAt[after]": "2026-01-01"},
        violation="createdAt[after]"),
    Row("audios-expand-unknown", "GET", "/audios", 400, params={"expand[]": "note.read"}, violation="expand[]"),
    Row("audios-documents-bad", "GET", "/audios", 400, params={"documents": "/patients/x"}, violation="documents"),
    Row("webhooks-page-text", "GET", "/webhooks", 400, params={"page": "x"}, violation="page"),
    Row("journal-since-text", "GET", "/_mock/journal", 400, params={"since": "x"}, violation="since"),
    Row("journal-kind-unknown", "GET", "/_mock/journal", 400, params={"kind": "everything"}, violation="kind"),
    Row("assumptions-all-not-boolean", "GET", "/_mock/assumptions", 400, params={"all": "maybe"}, violation="all"),
    Row("credentials-unknown-scope", "GET", "/_mock/credentials", 400, params={"scope": "admin"}, violation="scope"),
    # authentication: 401 and 403 are not problem documents (league's bundle answers plain text);
    # their rows are in tests/test_oauth_league.py (test_bearer_refusals_have_the_bundles_form).
]


def _send(client: TestClient, row: Row, accept: str | None = None):  # type: ignore[no-untyped-def]
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    document = next(d["uuid"] for d in ctx.store.documents if d["state"] == "verified")
    headers = dict(row.headers)
    if row.scope is not None:
        headers["Authorization"] = f"Bearer {access_token(client, None if row.scope == 'all' else row.scope)}"
    if accept and "Accept" not in headers:
        headers["Accept"] = accept
    path = row.path.replace("{document}", document).replace("{document_hex}", document.replace("-", ""))
    if "{webhook}" in path:
        hook = client.post("/webhooks", json=HOOK, headers={"Authorization": f"Bearer {access_token(client)}"})
        path = path.replace("{webhook}", hook.json()["uuid"])
    kwargs: dict[str, object] = {"headers": headers, "params": row.params}
    if row.content is not None:
        kwargs["content"] = row.content
    elif row.json is not None:
        kwargs["json"] = row.json
    return client.request(row.method, path, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


def _check(response, row: Row, media: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == row.status, response.text
    assert response.headers["content-type"].startswith(media), response.headers["content-type"]
    body = response.json()
    assert body["status"] == row.status
    assert body["title"] and body["detail"]
    if row.violation is not None:
        assert row.violation in [v["propertyPath"] for v in body.get("violations", [])], body


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input_answers_a_problem(client: TestClient, row: Row) -> None:
    _check(_send(client, row), row, "application/problem+json")


JSONLD_ROWS = [row for row in ROWS[::4] if "Accept" not in row.headers]


@pytest.mark.parametrize("row", JSONLD_ROWS, ids=[row.id for row in JSONLD_ROWS])
def test_bad_input_answers_jsonld_when_asked(client: TestClient, row: Row) -> None:
    response = _send(client, row, accept="application/ld+json")
    _check(response, row, "application/ld+json")
    assert response.json()["@type"] in ("Error", "ConstraintViolation")


def test_nesting_within_the_limit_is_sent_and_recorded(client: TestClient) -> None:
    hook = client.post("/webhooks", json=HOOK, headers={"Authorization": f"Bearer {access_token(client)}"}).json()
    event = {"id": UNKNOWN, "resource_type": "document", "action": "new_document", "metadata": nested(97)}
    answer = client.post(f"/_mock/webhooks/{hook['uuid']}/send", json={"events": [event]})
    assert answer.status_code == 202, answer.text
    assert client.get("/_mock/deliveries").status_code == 200


def test_a_token_request_nested_too_deep_is_invalid_request(client: TestClient) -> None:
    raw = '{"grant_type": ' + "[" * 1000 + "]" * 1000 + "}"  # a repr of it would overflow Python's stack
    answer = client.post("/oauth2/token", content=raw.encode(), headers=JSON_CT)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "deeper than 100 levels" in answer.json()["error_description"]


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/webhooks", "all"),
        ("POST", "/documents/{document}/status", "all"),
        ("POST", "/patients", "all"),
        ("POST", "/_mock/documents", None),
        ("POST", "/_mock/clock/advance", None),
    ],
)
def test_bodies_over_the_size_limit_are_413(app_client, method: str, path: str, scope: str | None) -> None:  # type: ignore[no-untyped-def]
    client = app_client(max_body_bytes=1000)
    row = Row("too-large", method, path, 413, json={"url": "http://127.0.0.1/" + "a" * 2000, "events": []}, scope=scope)
    _check(_send(client, row), row, "application/problem+json")


def test_chunked_body_over_the_limit_is_413(app_client) -> None:  # type: ignore[no-untyped-def]
    client = app_client(max_body_bytes=1000)

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"url": "http://127.0.0.1/'
        for _ in range(10):
            yield b"a" * 200
        yield b'", "events": ["new_note"]}'

    token = access_token(client, "organization")
    response = client.post(
        "/webhooks", content=chunks(), headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_405_allow_names_every_method_routed_at_the_path(client: TestClient) -> None:
    """One Route per method: Starlette's own Allow named only the first (found by tests/test_schemathesis.py)."""
    response = client.request("OPTIONS", f"/webhooks/{UNKNOWN}")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH, PUT"
    assert "Allow: DELETE, GET, PATCH, PUT" in response.json()["detail"]
