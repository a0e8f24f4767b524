"""Notes: consultation summaries generated from an audio recording (``new_note``)."""

from __future__ import annotations

from typing import Any

from mock_server.core.context import MockContext
from mock_server.core.store import Record
from mock_server.core.timefmt import iso
from mock_server.domain.datagen import EXAMS, MOTIFS, PLANS, apply_overrides, data_gen, fresh_uuid, now_int, owner
from mock_server.domain.patients import patient_for

NOTE_TYPE = "consultation_summary"


def consultation_summary(ctx: MockContext, patient: Record) -> str:
    """A French consultation summary: structured headings around lorem sentences."""
    gen = data_gen(ctx)
    rng = gen.rng
    return "\n\n".join(
        (
            f"Motif de consultation : {rng.choice(MOTIFS)}.",
            f"Anamnèse : {patient['firstName'] or 'Le patient'} rapporte une évolution progressive. "
            + gen.sentence(10),
            f"Examen clinique : {rng.choice(EXAMS)}",
            f"Conduite à tenir : {rng.choice(PLANS)} " + gen.sentence(8),
        )
    )


def create_note(ctx: MockContext, patient: Record, *, at: int, overrides: dict[str, Any] | None = None) -> Record:
    """Store an audio recorded before ``at`` and the note generated from it at ``at``; emits nothing."""
    gen = data_gen(ctx)
    duration = gen.rng.randint(180, 1800)
    audio_uuid = fresh_uuid(ctx, "audios")
    recorded = at - duration - gen.rng.randint(30, 300)
    note: Record = {
        "uuid": fresh_uuid(ctx, "notes"),
        "type": NOTE_TYPE,
        "content": consultation_summary(ctx, patient),
        "createdAt": at,
        "updatedAt": at,
        "patient": {"uuid": patient["uuid"], "firstName": patient["firstName"], "lastName": patient["lastName"]},
        "audio": f"/audios/{audio_uuid}",
        "_user_id": patient.get("_user_id") or owner(ctx)[0]["uuid"],
        "_organization_id": patient.get("_organization_id") or owner(ctx)[1]["uuid"],
    }
    if overrides:
        apply_overrides(note, overrides, frozenset({"type", "content"}), "note")
    ctx.store.audios.put(
        audio_uuid,
        {
            "uuid": audio_uuid,
            "patient": f"/patients/{patient['uuid']}",
            "languageSpoken": patient.get("languageSpoken") or "fr",
            "duration": duration,
            "createdAt": recorded,
            "updatedAt": at,
            "archivedAt": None,
            "_note_id": note["uuid"],
            "_user_id": note["_user_id"],
            "_organization_id": note["_organization_id"],
        },
    )
    return ctx.store.notes.put(note["uuid"], note)


def new_note(
    ctx: MockContext, *, patient_uuid: str | None = None, overrides: dict[str, Any] | None = None
) -> tuple[Record, Record]:
    """A note generated now from a fresh audio; emits ``new_note`` with the guide's payload."""
    patient = patient_for(ctx, patient_uuid)
    note = create_note(ctx, patient, at=now_int(ctx), overrides=overrides)
    payload = public_note(ctx, note)
    payload.pop("audio")
    event = ctx.emit("new_note", "note", payload, user_id=note["_user_id"], organization_id=note["_organization_id"])
    return note, event


def public_note(ctx: MockContext, note: Record) -> dict[str, Any]:
    """The served note: the webhook fields plus the IRI of its source audio."""
    return {
        "uuid": note["uuid"],
        "type": note["type"],
        "content": note["content"],
        "createdAt": iso(note["createdAt"]),
        "updatedAt": iso(note["updatedAt"]),
        "patient": dict(note["patient"]),
        "audio": note.get("audio"),
    }
