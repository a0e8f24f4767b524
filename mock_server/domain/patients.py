"""Patients: made-up French patients, created by seeding and the control API."""

from __future__ import annotations

from typing import Any

from mock_server.core.context import MockContext
from mock_server.core.store import Record
from mock_server.core.timefmt import iso
from mock_server.domain.datagen import (
    DAY,
    apply_overrides,
    ascii_slug,
    data_gen,
    fresh_uuid,
    now_int,
    owner,
    parse_time,
)

PATIENT_OVERRIDES = frozenset(
    {"firstName", "lastName", "languageSpoken", "dateOfBirth", "gender", "visibilityOption", "externalId",
     "externalCreatedAt", "email", "phone", "anonymousCode"}
)  # fmt: skip


def build_patient(ctx: MockContext, *, at: int, overrides: dict[str, Any] | None = None) -> Record:
    """A made-up French patient created at ``at`` (not stored)."""
    gen = data_gen(ctx)
    rng = gen.rng
    user, org = owner(ctx)
    gender = rng.choices(("female", "male", "unknown"), weights=(48, 48, 4))[0]
    first, last = gen.first_name(gender), gen.last_name()
    born = at - rng.randint(2 * 365, 92 * 365) * DAY
    external = f"PAT-{rng.randint(1, 999_999):06d}" if rng.random() < 0.6 else None
    record: Record = {
        "uuid": fresh_uuid(ctx, "patients"),
        "firstName": first,
        "lastName": last,
        "languageSpoken": "fr",
        "createdAt": at,
        "updatedAt": at,
        "synchronizedAt": None,
        "dateOfBirth": iso(born)[:10],
        "gender": gender,
        "visibilityOption": "shared",
        "externalId": external,
        "externalCreatedAt": at - rng.randint(30, 3000) * DAY if external else None,
        "email": f"{ascii_slug(first)}.{ascii_slug(last)}@example.org".lower() if rng.random() < 0.8 else None,
        "phone": gen.phone() if rng.random() < 0.9 else None,
        "anonymousCode": None,
        "_user_id": user["uuid"],
        "_organization_id": org["uuid"],
    }
    if overrides:
        apply_overrides(record, overrides, PATIENT_OVERRIDES, "patient")
        if isinstance(record.get("externalCreatedAt"), str):
            record["externalCreatedAt"] = parse_time(record["externalCreatedAt"], "externalCreatedAt")
    return record


def new_patient(ctx: MockContext, overrides: dict[str, Any] | None = None, *, at: int | None = None) -> Record:
    """Create and store a patient (Faker data, ``overrides`` in the served field names win)."""
    record = build_patient(ctx, at=now_int(ctx) if at is None else at, overrides=overrides)
    return ctx.store.patients.put(record["uuid"], record)


def patient_for(ctx: MockContext, patient_uuid: str | None) -> Record:
    if patient_uuid is not None:
        return ctx.store.patients.require(patient_uuid, "Patient")
    patients = ctx.store.patients.values()
    if patients:
        return data_gen(ctx).rng.choice(patients)
    return new_patient(ctx)
