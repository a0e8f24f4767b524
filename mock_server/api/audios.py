"""``/audios``: the consultation recordings notes are generated from, so a note's ``audio`` link resolves.

Askara's reference documents ``GET /audios`` (paging, ``order``, ``search``, ``exists[archivedAt]``,
exact ``uuid/patient/documents/user/languageSpoken``, date filters with range operators,
``expand[]``) but not the audio's schema: the served fields follow those filters
(``audio-resource``). The scope is ``read:notes`` (``audio-scope``). Audios are stored with the
notes they produced (``mock_server/domain/notes.py``); none is linked to a document.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.api.oauth.guard import authenticate
from mock_server.api.patients import public_patient
from mock_server.core.assumptions import rely
from mock_server.core.context import MockContext
from mock_server.core.errors import BadRequest, NotFound, Violation
from mock_server.core.store import Record
from mock_server.core.timefmt import iso
from mock_server.web.collections import CollectionSpec, collection_response, item_response, path_uuid
from mock_server.web.filters import RANGE, field_of

READ_SCOPE = "read:notes"
EXPAND_GROUPS = ("patient.read", "patient.list")
"""The ``expand[]`` values of the reference; either embeds the patient instead of its IRI."""


def _patient_uuid(audio: Record) -> str | None:
    iri = audio.get("patient") or ""
    return iri.removeprefix("/patients/") or None


SPEC = CollectionSpec(
    resource="Audio",
    path="/audios",
    exact={
        "uuid": lambda a: a["uuid"],
        "patient": _patient_uuid,
        "documents": lambda a: list(a.get("documents") or []),
        "user": lambda a: a.get("_user_id"),
        "languageSpoken": lambda a: a.get("languageSpoken"),
    },
    uuid_filters=frozenset({"uuid"}),
    relations={"patient": "/patients/", "documents": "/documents/", "user": "/users/"},
    exists={"archivedAt": lambda a: a.get("archivedAt")},
    dates={name: field_of(name) for name in ("createdAt", "updatedAt", "archivedAt")},
    date_operators=RANGE,
    order={
        "uuid": lambda a: a["uuid"],
        "patient": _patient_uuid,
        **{name: field_of(name) for name in ("createdAt", "updatedAt", "archivedAt")},
    },
    search=lambda a: [],
)
"""``search`` is bound to the patients per request (it looks in the patient's names)."""


def routes() -> list[BaseRoute]:
    return [
        Route("/audios", list_audios, methods=["GET"]),
        Route("/audios/{uuid}", get_audio, methods=["GET"]),
    ]


def _organization_of(ctx: MockContext, user_id: str) -> str | None:
    user = ctx.store.users.get(user_id)
    return user.get("_organization_id") if user else None


def _expand(request: Request) -> bool:
    """Whether ``expand[]`` asks for the patient; any other value or form is a 400 naming the accepted ones."""
    wanted = False
    for key, value in request.query_params.multi_items():
        if key != "expand" and not key.startswith("expand["):
            continue
        if key != "expand[]" or value not in EXPAND_GROUPS:
            message = f"The value {value!r:.60} is not accepted; use expand[]={' or expand[]='.join(EXPAND_GROUPS)}."
            raise BadRequest(f'Query parameter "{key}": {message}', violations=[Violation(key, message, "expand")])
        wanted = True
    return wanted


async def list_audios(request: Request) -> Response:
    token = authenticate(request, READ_SCOPE)
    rely(request.scope, "audio-scope")
    rely(request.scope, "audio-resource")
    ctx: MockContext = request.app.state.mock
    organization = _organization_of(ctx, token.user_id)
    expand = _expand(request)
    audios = [a for a in ctx.store.audios if a.get("_organization_id") == organization]

    def names(audio: Record) -> list[str | None]:
        patient = ctx.store.patients.get(_patient_uuid(audio) or "")
        return [patient.get("firstName"), patient.get("lastName")] if patient else []

    spec = dataclasses.replace(SPEC, search=names)
    return collection_response(request, spec, audios, lambda a: public_audio(ctx, a, expand=expand))


async def get_audio(request: Request) -> Response:
    token = authenticate(request, READ_SCOPE)
    rely(request.scope, "audio-scope")
    rely(request.scope, "audio-resource")
    ctx: MockContext = request.app.state.mock
    key = path_uuid(request, "Audio")
    audio = ctx.store.audios.get(key)
    if audio is None or audio.get("_organization_id") != _organization_of(ctx, token.user_id):
        raise NotFound(f'Audio "{key}" not found.')
    return item_response(request, SPEC, key, public_audio(ctx, audio, expand=_expand(request)))


def public_audio(ctx: MockContext, audio: Record, *, expand: bool = False) -> dict[str, Any]:
    """The served audio: IRIs for its relations (the patient embedded with ``expand``), ISO dates."""
    patient: Any = audio.get("patient")
    if expand:
        record = ctx.store.patients.get(_patient_uuid(audio) or "")
        patient = public_patient(record) if record is not None else patient
    archived = audio.get("archivedAt")
    return {
        "uuid": audio["uuid"],
        "patient": patient,
        "user": f"/users/{audio['_user_id']}" if audio.get("_user_id") else None,
        "documents": [f"/documents/{uuid}" for uuid in audio.get("documents") or []],
        "languageSpoken": audio.get("languageSpoken"),
        "duration": audio.get("duration"),
        "createdAt": iso(audio["createdAt"]),
        "updatedAt": iso(audio["updatedAt"]),
        "archivedAt": iso(archived) if archived is not None else None,
    }
