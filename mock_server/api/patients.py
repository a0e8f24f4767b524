"""``/patients``: list (filters of the reference's variant B), create, read one.

No scope is documented for patients; the mock asks for a valid token and no particular scope.
A clinician sees the patients of their organization. Every filter of variant B is honoured
(``search``, exact filters with their ``[]`` form, ``order[...]``, date filters with the range
operators the page shows) except ``id`` and ``client``, which the mock has no value for: those
are refused 400 "not mocked" rather than ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.api.oauth.guard import authenticate
from mock_server.core.assumptions import PATIENT_READ_ONE, PATIENTS_NO_SCOPE, rely
from mock_server.core.context import MockContext
from mock_server.core.errors import NotFound, ValidationFailed, Violation
from mock_server.core.store import Record
from mock_server.core.timefmt import iso, parse_iso
from mock_server.domain.datagen import fresh_uuid, now_int
from mock_server.web import indexed
from mock_server.web.collections import CollectionSpec, IndexedSource, collection_response, item_response, path_uuid
from mock_server.web.filters import RANGE, field_of
from mock_server.web.http import read_json


def _field(name: str) -> Any:
    return lambda record: record.get(name)


EXACT = ("uuid", "firstName", "lastName", "languageSpoken", "dateOfBirth", "gender", "visibilityOption",
         "externalId", "email", "phone", "anonymousCode")  # fmt: skip
ORDER = ("uuid", "firstName", "lastName", "languageSpoken", "createdAt", "updatedAt", "synchronizedAt",
         "dateOfBirth", "gender", "visibilityOption", "externalId", "externalCreatedAt", "email", "phone",
         "anonymousCode")  # fmt: skip
SEARCHED = ("firstName", "lastName", "email", "phone", "externalId")
SPEC = CollectionSpec(
    resource="Patient",
    path="/patients",
    exact={**{name: _field(name) for name in EXACT}, "user.uuid": _field("_user_id"), "user.email": lambda p: None},
    uuid_filters=frozenset({"uuid", "user.uuid"}),
    exact_dates={"externalCreatedAt": _field("externalCreatedAt")},
    dates={name: _field(name) for name in ("createdAt", "updatedAt", "synchronizedAt")},
    date_operators=RANGE,
    order={name: _field(name) for name in ORDER},
    search=lambda p: [p.get(name) for name in SEARCHED],
    not_mocked=frozenset({"id", "client", "order[id]"}),
    indexed=frozenset({*EXACT, "user.uuid"}),
)
"""Variant B of the reference page; ``user.email`` is bound to the store per request."""
OPTIONAL_FIELDS = ("languageSpoken", "dateOfBirth", "gender", "visibilityOption", "externalId", "externalCreatedAt",
                   "email", "phone", "anonymousCode")  # fmt: skip


def routes() -> list[BaseRoute]:
    return [
        Route("/patients", list_patients, methods=["GET"]),
        Route("/patients", create_patient, methods=["POST"]),
        Route("/patients/{uuid}", get_patient, methods=["GET"]),
    ]


def warm_views(ctx: MockContext) -> None:
    """Build the sorted views of the plain list at start-up."""
    indexed.warm_views(SPEC, _source(ctx, None), ((),))


def _source(ctx: MockContext, organization: str | None) -> IndexedSource:
    """The list as the store's sorted views of one organization."""
    return IndexedSource(ctx.store.patients, "by-organization", field_of("_organization_id"), organization)


def _visible(ctx: MockContext, organization_id: str | None) -> Iterator[Record]:
    """Lazy: iterated only for a query the sorted views cannot answer (``search``, ``user.email``...)."""
    return (p for p in ctx.store.patients if p.get("_organization_id") == organization_id)


def _organization_of(ctx: MockContext, user_id: str) -> str | None:
    user = ctx.store.users.get(user_id)
    return user.get("_organization_id") if user else None


async def list_patients(request: Request) -> Response:
    token = authenticate(request)
    rely(request.scope, PATIENTS_NO_SCOPE.id)
    ctx: MockContext = request.app.state.mock
    organization = _organization_of(ctx, token.user_id)
    patients = _visible(ctx, organization)
    if "search" in request.query_params:
        rely(request.scope, "patient-search")
    emails = {user["uuid"]: user.get("email") for user in ctx.store.users}
    spec = dataclasses.replace(SPEC, exact={**SPEC.exact, "user.email": lambda p: emails.get(p.get("_user_id"))})
    source = _source(ctx, organization)
    return collection_response(request, spec, patients, public_patient, source=source)


async def get_patient(request: Request) -> Response:
    rely(request.scope, PATIENT_READ_ONE.id)
    token = authenticate(request)
    rely(request.scope, PATIENTS_NO_SCOPE.id)
    ctx: MockContext = request.app.state.mock
    key = path_uuid(request, "Patient")
    patient = ctx.store.patients.get(key)
    if patient is None or patient.get("_organization_id") != _organization_of(ctx, token.user_id):
        raise NotFound(f'Patient "{key}" not found.')
    return item_response(request, SPEC, key, public_patient(patient))


async def create_patient(request: Request) -> Response:
    """201 with the documented response fields; 422 with a violation per bad field."""
    token = authenticate(request)
    ctx: MockContext = request.app.state.mock
    rely(request.scope, PATIENTS_NO_SCOPE.id)
    body: dict[str, Any] = await read_json(request, "patient")
    _check_dates(body)
    now = now_int(ctx)
    patient: Record = {
        "uuid": fresh_uuid(ctx, "patients"),
        "firstName": body["firstName"],
        "lastName": body["lastName"],
        "languageSpoken": "fr",
        "createdAt": now,
        "updatedAt": now,
        "synchronizedAt": None,
        "dateOfBirth": None,
        "gender": None,
        "visibilityOption": None,
        "externalId": None,
        "externalCreatedAt": None,
        "email": None,
        "phone": None,
        "anonymousCode": None,
    }
    patient.update({name: body[name] for name in OPTIONAL_FIELDS if name in body})
    if patient["dateOfBirth"]:
        patient["dateOfBirth"] = patient["dateOfBirth"][:10]
    if patient["externalCreatedAt"]:
        patient["externalCreatedAt"] = int(parse_iso(patient["externalCreatedAt"]))
    patient["_user_id"] = token.user_id
    patient["_organization_id"] = _organization_of(ctx, token.user_id)
    ctx.store.patients.put(patient["uuid"], patient)
    headers = {"Location": SPEC.iri(patient["uuid"])}
    return item_response(request, SPEC, patient["uuid"], public_patient(patient, created=True), 201, headers)


def _check_dates(body: dict[str, Any]) -> None:
    """The schema checks the shape; this checks that the date is a real one (no 2026-02-30)."""
    violations = []
    for name in ("dateOfBirth", "externalCreatedAt"):
        value = body.get(name)
        if not isinstance(value, str):
            continue
        try:
            iso(parse_iso(value))
        except (ValueError, OverflowError, OSError):
            violations.append(Violation(name, f"The value {value!r:.60} is not a valid date.", "date"))
    if violations:
        raise ValidationFailed("\n".join(f"{v.property_path}: {v.message}" for v in violations), violations=violations)


def public_patient(patient: Record, *, created: bool = False) -> dict[str, Any]:
    """The served patient; the 201 of POST /patients omits externalId/externalCreatedAt, as documented."""
    body = {
        "uuid": patient["uuid"],
        "firstName": patient["firstName"],
        "lastName": patient["lastName"],
        "languageSpoken": patient.get("languageSpoken"),
        "createdAt": iso(patient["createdAt"]),
        "updatedAt": iso(patient["updatedAt"]),
        "synchronizedAt": _iso_or_none(patient.get("synchronizedAt")),
        "dateOfBirth": patient.get("dateOfBirth"),
        "gender": patient.get("gender"),
        "user": f"/users/{patient['_user_id']}" if patient.get("_user_id") else None,
        "visibilityOption": patient.get("visibilityOption"),
        "email": patient.get("email"),
        "phone": patient.get("phone"),
        "anonymousCode": patient.get("anonymousCode"),
    }
    if not created:
        body["externalId"] = patient.get("externalId")
        body["externalCreatedAt"] = _iso_or_none(patient.get("externalCreatedAt"))
    return body


def _iso_or_none(value: float | None) -> str | None:
    return None if value is None else iso(value)
