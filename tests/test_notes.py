"""``/notes``: filters of the note-synchronization guide, order, one note, the ``new_note`` event."""

from __future__ import annotations

import uuid
from typing import Any

from conftest import access_token
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from mock_server import domain
from mock_server.web.validation import load_schema


def _auth(client: TestClient, scope: str = "read:notes") -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(client, scope)}"}


def _ctx(client: TestClient) -> Any:
    return client.app.state.mock  # type: ignore[attr-defined]


def test_list_and_get_one(client: TestClient) -> None:
    headers = _auth(client)
    notes = client.get("/notes", headers=headers).json()
    assert len(notes) == _ctx(client).settings.seed_notes
    validator = Draft202012Validator(load_schema("note"))
    for note in notes:
        assert list(validator.iter_errors(note)) == []
        assert note["type"] == "consultation_summary"
        assert note["content"].startswith("Motif de consultation")
        assert note["audio"].startswith("/audios/")
    one = client.get(f"/notes/{notes[0]['uuid']}", headers=headers)
    assert one.status_code == 200 and one.json() == notes[0]
    assert client.get(f"/notes/{uuid.uuid4()}", headers=headers).status_code == 404
    assert "not a valid UUID" in client.get("/notes/xyz", headers=headers).json()["detail"]


def test_filters_of_the_guide(client: TestClient) -> None:
    headers = _auth(client)
    notes = client.get("/notes", headers=headers).json()
    patient = notes[0]["patient"]["uuid"]
    expected = [n["uuid"] for n in notes if n["patient"]["uuid"] == patient]
    for value in (patient, f"/patients/{patient}"):
        assert [n["uuid"] for n in client.get("/notes", params={"patient": value}, headers=headers).json()] == expected
    audio = notes[-1]["audio"]
    for value in (audio, audio.removeprefix("/audios/")):
        assert [n["uuid"] for n in client.get("/notes", params={"audio": value}, headers=headers).json()] == [
            notes[-1]["uuid"]
        ]
    desc = client.get("/notes", params={"order[createdAt]": "desc"}, headers=headers).json()
    assert [n["createdAt"] for n in desc] == sorted((n["createdAt"] for n in notes), reverse=True)
    pivot = sorted(n["createdAt"] for n in notes)[len(notes) // 2]
    after = client.get("/notes", params={"createdAt[after]": pivot}, headers=headers).json()
    assert {n["uuid"] for n in after} == {n["uuid"] for n in notes if n["createdAt"] >= pivot}
    day = client.get("/notes", params={"createdAt[after]": "2000-01-01"}, headers=headers).json()
    assert len(day) == len(notes)
    assert client.get("/notes", params={"createdAt[after]": "yesterday-ish"}, headers=headers).status_code == 400


def test_scope(client: TestClient) -> None:
    note = client.get("/notes", headers=_auth(client)).json()[0]
    for path in ("/notes", f"/notes/{note['uuid']}"):
        response = client.get(path, headers=_auth(client, "read:documents"))
        assert response.status_code == 403
        assert 'scope="read:notes"' in response.headers["www-authenticate"]


def test_new_note_emits_the_guide_payload(client: TestClient) -> None:
    ctx = _ctx(client)
    patient = ctx.store.patients.values()[0]
    note, event = domain.new_note(ctx, patient_uuid=patient["uuid"])
    payload = event["payload"]
    assert payload["action"] == "new_note" and payload["resource_type"] == "note" and payload["id"] == note["uuid"]
    body = payload["metadata"]["note"]
    assert set(body) == {"uuid", "type", "content", "createdAt", "updatedAt", "patient"}
    assert body["patient"] == {k: patient[k] for k in ("uuid", "firstName", "lastName")}
    assert body["createdAt"].endswith("+00:00")
    assert note["audio"].removeprefix("/audios/") in ctx.store.audios
    served = client.get(f"/notes/{note['uuid']}", headers=_auth(client)).json()
    assert {k: v for k, v in served.items() if k != "audio"} == body
