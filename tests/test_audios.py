"""``/audios``: a note's ``audio`` link resolves; the collection takes the reference's filters."""

from __future__ import annotations

import uuid
from typing import Any

from conftest import access_token
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from mock_server import domain
from mock_server.web.validation import validator


def _auth(client: TestClient, scope: str = "read:notes") -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(client, scope)}"}


def _validator() -> Draft202012Validator:
    return validator("audio")


def _uuids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [a["uuid"] for a in response.json()]


def test_a_notes_audio_link_resolves(client: TestClient) -> None:
    headers = _auth(client)
    for note in client.get("/notes", headers=headers).json():
        response = client.get(note["audio"], headers=headers)
        assert response.status_code == 200, response.text
        audio = response.json()
        assert f"/audios/{audio['uuid']}" == note["audio"]
        assert audio["patient"] == f"/patients/{note['patient']['uuid']}"
        assert list(_validator().iter_errors(audio)) == []
        assert audio["createdAt"] < note["createdAt"]  # recorded before the note was generated


def test_list_filters_order_and_search(client: TestClient) -> None:
    headers = _auth(client)
    audios = client.get("/audios", headers=headers).json()
    assert len(audios) == client.app.state.mock.settings.seed_notes  # type: ignore[attr-defined]
    patient = audios[0]["patient"]
    expected = [a["uuid"] for a in audios if a["patient"] == patient]
    for value in (patient, patient.removeprefix("/patients/")):
        assert _uuids(client.get("/audios", params={"patient": value}, headers=headers)) == expected
    assert _uuids(client.get("/audios", params={"exists[archivedAt]": "false"}, headers=headers)) == [
        a["uuid"] for a in audios]  # fmt: skip
    assert _uuids(client.get("/audios", params={"exists[archivedAt]": "true"}, headers=headers)) == []
    assert client.get("/audios", params={"exists[archivedAt]": "False"}, headers=headers).status_code == 400
    assert _uuids(client.get("/audios", params={"documents": str(uuid.uuid4())}, headers=headers)) == []
    french = _uuids(client.get("/audios", params={"languageSpoken": "fr"}, headers=headers))
    assert french == [a["uuid"] for a in audios]
    desc = client.get("/audios", params={"order[createdAt]": "desc"}, headers=headers).json()
    assert [a["createdAt"] for a in desc] == sorted((a["createdAt"] for a in audios), reverse=True)
    pivot = sorted(a["createdAt"] for a in audios)[len(audios) // 2]
    later = _uuids(client.get("/audios", params={"createdAt[gt]": pivot}, headers=headers))
    assert set(later) == {a["uuid"] for a in audios if a["createdAt"] > pivot}
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    owner = ctx.store.patients.get(patient.removeprefix("/patients/"))
    found = _uuids(client.get("/audios", params={"search": owner["lastName"].upper()}, headers=headers))
    assert set(expected) <= set(found)


def test_expand_embeds_the_patient(client: TestClient) -> None:
    headers = _auth(client)
    audio = client.get("/audios", params={"expand[]": "patient.read"}, headers=headers).json()[0]
    assert isinstance(audio["patient"], dict) and audio["patient"]["uuid"]
    assert list(_validator().iter_errors(audio)) == []
    one = client.get(f"/audios/{audio['uuid']}", params={"expand[]": "patient.list"}, headers=headers).json()
    assert one["patient"] == audio["patient"]
    for params in ({"expand[]": "note.read"}, {"expand": "patient.read"}):
        bad = client.get("/audios", params=params, headers=headers)
        assert bad.status_code == 400 and bad.json()["violations"][0]["propertyPath"] in params


def test_scope_404_and_jsonld(client: TestClient) -> None:
    audio = client.get("/audios", headers=_auth(client)).json()[0]
    denied = client.get(f"/audios/{audio['uuid']}", headers=_auth(client, "read:documents"))
    assert denied.status_code == 403 and 'scope="read:notes"' in denied.headers["www-authenticate"]
    assert client.get(f"/audios/{uuid.uuid4()}", headers=_auth(client)).status_code == 404
    ld = client.get(f"/audios/{audio['uuid']}", headers={**_auth(client), "Accept": "application/ld+json"}).json()
    assert ld["@id"] == f"/audios/{audio['uuid']}" and ld["@type"] == "Audio"


def test_a_new_note_has_a_readable_audio(client: TestClient) -> None:
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    note, _ = domain.new_note(ctx)
    response = client.get(note["audio"], headers=_auth(client))
    assert response.status_code == 200 and response.json()["patient"] == f"/patients/{note['patient']['uuid']}"
