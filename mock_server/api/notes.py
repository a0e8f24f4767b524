"""``/notes``: AI-generated consultation notes, filterable by patient, audio, type and date.

The guide documents ``patient``, ``audio``, ``createdAt[after]`` and ``order[createdAt]``; the
other filters follow API Platform (DateFilter operators only) and rely on ``note-filters``.
"""

from __future__ import annotations

from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.api.oauth.guard import authenticate
from mock_server.core.assumptions import NOTE_AUDIO_FIELD, served_form
from mock_server.core.context import MockContext
from mock_server.core.errors import NotFound
from mock_server.core.store import Record
from mock_server.domain.notes import public_note
from mock_server.web import indexed
from mock_server.web.collections import CollectionSpec, IndexedSource, collection_response, item_response, path_uuid
from mock_server.web.filters import field_of

READ_SCOPE = "read:notes"
SPEC = CollectionSpec(
    resource="Note",
    path="/notes",
    exact={
        "uuid": lambda n: n["uuid"],
        "type": lambda n: n["type"],
        "patient": lambda n: (n.get("patient") or {}).get("uuid"),
        "audio": lambda n: (n.get("audio") or "").removeprefix("/audios/") or None,
    },
    uuid_filters=frozenset({"uuid"}),
    dates={"createdAt": lambda n: n.get("createdAt"), "updatedAt": lambda n: n.get("updatedAt")},
    order={"createdAt": lambda n: n.get("createdAt"), "updatedAt": lambda n: n.get("updatedAt")},
    relations={"patient": "/patients/", "audio": "/audios/"},
    documented=frozenset({"patient", "audio", "createdAt[after]", "order[createdAt]"}),
    extras_assumption="note-filters",
    indexed=frozenset({"uuid", "type", "patient", "audio"}),
)


def routes() -> list[BaseRoute]:
    return [
        Route("/notes", list_notes, methods=["GET"]),
        Route("/notes/{uuid}", get_note, methods=["GET"]),
    ]


def warm_views(ctx: MockContext) -> None:
    """Build the sorted views of the plain list at start-up."""
    indexed.warm_views(SPEC, _source(ctx, None), ((),))


def _source(ctx: MockContext, organization: str | None) -> IndexedSource:
    """The list as the store's sorted views of one organization."""
    return IndexedSource(ctx.store.notes, "by-organization", field_of("_organization_id"), organization)


def _organization_of(ctx: MockContext, user_id: str) -> str | None:
    user = ctx.store.users.get(user_id)
    return user.get("_organization_id") if user else None


def _visible(ctx: MockContext, organization_id: str | None) -> Iterator[Record]:
    """Lazy: iterated only for a query the sorted views cannot answer."""
    return (n for n in ctx.store.notes if n.get("_organization_id") == organization_id)


async def list_notes(request: Request) -> Response:
    token = authenticate(request, READ_SCOPE)
    ctx: MockContext = request.app.state.mock
    organization = _organization_of(ctx, token.user_id)
    shape = served_form(request.scope, NOTE_AUDIO_FIELD, ctx.settings.documented_only)
    source = _source(ctx, organization)
    notes = _visible(ctx, organization)
    return collection_response(request, SPEC, notes, lambda n: shape(public_note(ctx, n)), source=source)


async def get_note(request: Request) -> Response:
    token = authenticate(request, READ_SCOPE)
    ctx: MockContext = request.app.state.mock
    key = path_uuid(request, "Note")
    note = ctx.store.notes.get(key)
    if note is None or note.get("_organization_id") != _organization_of(ctx, token.user_id):
        raise NotFound(f'Note "{key}" not found.')
    shape = served_form(request.scope, NOTE_AUDIO_FIELD, ctx.settings.documented_only)
    return item_response(request, SPEC, key, shape(public_note(ctx, note)))
