"""Deterministic French records (Faker fr_FR) and what a clinician does to them.

Seeding, the control API and the webhook sender all create data here, so one ``--seed`` fixes
every generated value: a Faker and a ``random.Random`` seeded from ``settings.seed`` live on the
context (``data_gen``) and every uuid comes from that generator. Records keep times as integer
mock epoch seconds (an API client sees whole seconds, so filters on what it saw must match);
``public_document`` / ``public_note`` turn a record into the served form (no ``_`` keys, ISO
times, a freshly pre-signed PDF link). Names, phones and e-mails are made up: phones are in
ARCEP's range reserved for fiction (06 39 98 xx xx) and e-mails use example.org/example.com.
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from typing import Any

from faker import Faker

from mock_server.context import MockContext
from mock_server.errors import Conflict, ValidationFailed, Violation
from mock_server.files import signed_pdf_url
from mock_server.store import Record
from mock_server.timefmt import iso, parse_iso

DATA_GEN_KEY = "askara.data_gen"
DAY = 86_400
DOCUMENT_TYPES: dict[str, tuple[str, str]] = {
    # type -> (French title, file-name prefix); only referral_letter is in Askara's guide
    "referral_letter": ("Courrier d'adressage", "courrier-adressage"),
    "consultation_report": ("Compte rendu de consultation", "compte-rendu"),
    "prescription": ("Ordonnance", "ordonnance"),
    "medical_certificate": ("Certificat médical", "certificat-medical"),
}
TYPE_WEIGHTS = (6, 2, 1, 1)
NOTE_TYPE = "consultation_summary"
EMBEDDED_PATIENT = ("uuid", "externalId", "firstName", "lastName", "dateOfBirth", "gender")
MOTIFS = (
    "des lombalgies évoluant depuis trois semaines",
    "le suivi d'une hypertension artérielle",
    "une toux persistante depuis dix jours",
    "des céphalées récurrentes",
    "un bilan annuel",
    "une douleur du genou droit après une chute",
    "une fatigue et des troubles du sommeil",
    "le suivi d'un diabète de type 2",
    "des palpitations à l'effort",
    "une éruption cutanée prurigineuse",
)
EXAMS = (
    "Examen clinique sans particularité, tension artérielle à 13/8.",
    "Auscultation cardio-pulmonaire normale, apyrétique.",
    "Palpation douloureuse sans signe neurologique associé.",
    "Abdomen souple, indolore, pas d'adénopathie palpable.",
)
PLANS = (
    "Traitement symptomatique et réévaluation dans quinze jours.",
    "Bilan biologique prescrit, à revoir avec les résultats.",
    "Adressage au spécialiste pour avis complémentaire.",
    "Poursuite du traitement en cours, pas de modification.",
)
PATIENT_OVERRIDES = frozenset(
    {"firstName", "lastName", "languageSpoken", "dateOfBirth", "gender", "visibilityOption", "externalId",
     "externalCreatedAt", "email", "phone", "anonymousCode"}
)  # fmt: skip


class DataGen:
    """The seeded sources of every generated value of one mock."""

    def __init__(self, seed: int | str) -> None:
        self.rng = random.Random(seed)
        self.faker = Faker("fr_FR")
        self.faker.seed_instance(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def digits(self, count: int) -> str:
        return "".join(str(self.rng.randrange(10)) for _ in range(count))

    def phone(self) -> str:
        return "+336399" + "8" + self.digits(4)


def reset_data_gen(ctx: MockContext) -> DataGen:
    """A generator at the start of the seed's sequence (seeding and reset start here)."""
    gen = DataGen(ctx.settings.seed)
    ctx.extensions[DATA_GEN_KEY] = gen
    return gen


def data_gen(ctx: MockContext) -> DataGen:
    """The context's generator; after a restart from ``--state`` it continues from what is stored."""
    gen = ctx.extensions.get(DATA_GEN_KEY)
    if gen is None:
        store = ctx.store
        gen = DataGen(f"{ctx.settings.seed}/{len(store.patients)}/{len(store.documents)}/{len(store.notes)}")
        ctx.extensions[DATA_GEN_KEY] = gen
    return gen  # type: ignore[no-any-return]


def fresh_uuid(ctx: MockContext, table: str) -> str:
    gen = data_gen(ctx)
    while True:
        candidate = gen.uuid()
        if candidate not in ctx.store.tables[table]:
            return candidate


def ascii_slug(text: str) -> str:
    """``Hélène-Marie d'Aubigné`` -> ``Helene-Marie-dAubigne`` (file names and e-mail local parts)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(part for part in "".join(c if c.isalnum() or c in " -" else "" for c in plain).replace(" ", "-")
                    .split("-") if part)  # fmt: skip


def now_int(ctx: MockContext) -> int:
    return int(ctx.clock.now())


def owner(ctx: MockContext) -> tuple[Record, Record]:
    """The seeded clinician and their organization: who new data belongs to by default."""
    users = ctx.store.users.values()
    if not users:
        raise Conflict("No clinician is seeded in this mock (seed the store first).")
    user = users[0]
    org = ctx.store.organizations.get(user.get("_organization_id") or "") or {"uuid": user.get("_organization_id")}
    return user, org


# -- patients ----------------------------------------------------------------------------------


def build_patient(ctx: MockContext, *, at: int, overrides: dict[str, Any] | None = None) -> Record:
    """A made-up French patient created at ``at`` (not stored)."""
    gen = data_gen(ctx)
    rng, faker = gen.rng, gen.faker
    user, org = owner(ctx)
    gender = rng.choices(("female", "male", "unknown"), weights=(48, 48, 4))[0]
    first = faker.first_name_female() if gender == "female" else faker.first_name_male()
    last = faker.last_name()
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
        _apply(record, overrides, PATIENT_OVERRIDES, "patient")
        if isinstance(record.get("externalCreatedAt"), str):
            record["externalCreatedAt"] = _parse_time(record["externalCreatedAt"], "externalCreatedAt")
    return record


def new_patient(ctx: MockContext, overrides: dict[str, Any] | None = None, *, at: int | None = None) -> Record:
    """Create and store a patient (Faker data, ``overrides`` in the served field names win)."""
    record = build_patient(ctx, at=now_int(ctx) if at is None else at, overrides=overrides)
    return ctx.store.patients.put(record["uuid"], record)


def _patient_for(ctx: MockContext, patient_uuid: str | None) -> Record:
    if patient_uuid is not None:
        return ctx.store.patients.require(patient_uuid, "Patient")
    patients = ctx.store.patients.values()
    if patients:
        return data_gen(ctx).rng.choice(patients)
    return new_patient(ctx)


# -- documents ---------------------------------------------------------------------------------


def build_document(ctx: MockContext, patient: Record, *, at: int, overrides: dict[str, Any] | None = None) -> Record:
    """A draft document about ``patient`` written at ``at`` (not stored)."""
    gen = data_gen(ctx)
    kind = gen.rng.choices(list(DOCUMENT_TYPES), weights=TYPE_WEIGHTS)[0]
    doc_uuid = fresh_uuid(ctx, "documents")
    overrides = overrides or {}
    _check_keys(overrides, frozenset({"type", "title"}), "document")
    kind = overrides.get("type") or kind
    label, prefix = DOCUMENT_TYPES.get(kind, (kind.replace("_", " ").capitalize(), ascii_slug(kind).lower()))
    first, last = patient["firstName"] or "", patient["lastName"] or ""
    title = overrides.get("title") or f"{label} - {first} {last.upper()}".strip()
    file_name = f"{prefix}-{ascii_slug(last).upper() or 'PATIENT'}-{ascii_slug(first) or 'X'}-{iso(at)[:10]}.pdf"
    return {
        "uuid": doc_uuid,
        "type": kind,
        "state": "draft",
        "title": title,
        "createdAt": at,
        "updatedAt": at,
        "validatedAt": None,
        "synchronized": False,
        "synchronizedAt": None,
        "lastError": None,
        "patient": {
            "uuid": patient["uuid"],
            "externalId": patient.get("externalId"),
            "firstName": patient["firstName"],
            "lastName": patient["lastName"],
            "dateOfBirth": patient.get("dateOfBirth"),
            "gender": patient.get("gender"),
        },
        "pdf": {"fileName": file_name},
        "_user_id": patient.get("_user_id") or owner(ctx)[0]["uuid"],
        "_organization_id": patient.get("_organization_id") or owner(ctx)[1]["uuid"],
        "_last_sync_request": None,
    }


def new_document(
    ctx: MockContext, *, patient_uuid: str | None = None, overrides: dict[str, Any] | None = None
) -> Record:
    """Create and store a DRAFT document (not visible in the public API); emits nothing."""
    patient = _patient_for(ctx, patient_uuid)
    doc = build_document(ctx, patient, at=now_int(ctx), overrides=overrides)
    return ctx.store.documents.put(doc["uuid"], doc)


def validate_document(ctx: MockContext, document: Record) -> Record:
    """The clinician validates: state ``verified``, unsynchronized; emits ``new_document``."""
    doc = ctx.store.documents.require(document["uuid"], "Document")
    if doc["state"] != "draft":
        raise Conflict(f'Document "{doc["uuid"]}" is already {doc["state"]!r}; only a draft can be validated.')
    now = now_int(ctx)
    doc.update({"state": "verified", "validatedAt": now, "updatedAt": now, "synchronized": False})
    ctx.store.documents.put(doc["uuid"], doc)
    return _emit_document(ctx, "new_document", doc)


def synchronize_document(ctx: MockContext, document: Record) -> Record:
    """The Synchronize button: emits ``document_synchronize`` (the cooldown is the caller's job).

    The document's ``synchronized`` flag is left as it is: pressing the button asks the
    integration to import again; only its status report changes the flag.
    """
    doc = ctx.store.documents.require(document["uuid"], "Document")
    if doc["state"] != "verified":
        raise Conflict(
            f'Document "{doc["uuid"]}" is a {doc["state"]!r}; only a validated document can be synchronized.'
        )
    return _emit_document(ctx, "document_synchronize", doc)


def _emit_document(ctx: MockContext, action: str, doc: Record) -> Record:
    return ctx.emit(
        action, "document", public_document(ctx, doc), user_id=doc["_user_id"], organization_id=doc["_organization_id"]
    )


def public_document(ctx: MockContext, doc: Record, *, expires_at: float | None = None) -> dict[str, Any]:
    """The served document: embedded patient, and a PDF link valid ``pdf_url_ttl`` from now.

    Everything but the link is memoised per stored record and its store stamp (bumped by every
    ``put``/``save``), so a list re-serves unchanged documents without rebuilding them; the link is
    always the one for now (``expires_at``, when a list fixed it once for all its items). Each call
    returns fresh dicts: callers (event transforms) may edit them.
    """
    expires = ctx.clock.now() + ctx.settings.pdf_url_ttl if expires_at is None else expires_at
    key = doc["uuid"]
    cache: dict[str, tuple[Record, int, dict[str, Any]]] = ctx.extensions.setdefault(SERVED_CACHE_KEY, {})
    table = ctx.store.documents
    hit = cache.get(key)
    if hit is not None and hit[0] is doc and hit[1] == table.stamp(key) and table.get(key) is doc:
        base = hit[2]
    else:
        base = _served_document(doc)
        if table.get(key) is doc:
            if len(cache) >= SERVED_CACHE_LIMIT:
                cache.clear()
            cache[key] = (doc, table.stamp(key), base)
    pdf = base["pdf"]
    return {
        **base,
        "patient": dict(base["patient"]),
        "pdf": {"url": signed_pdf_url(ctx, key, pdf["fileName"], expires), "fileName": pdf["fileName"]},
    }


def _served_document(doc: Record) -> dict[str, Any]:
    """The served form without its link (a placeholder keeps the key order)."""
    patient = doc["patient"]
    return {
        "uuid": doc["uuid"],
        "type": doc["type"],
        "state": doc["state"],
        "title": doc.get("title"),
        "patient": {k: patient.get(k) for k in EMBEDDED_PATIENT},
        "pdf": {"url": None, "fileName": doc["pdf"]["fileName"]},
        "createdAt": iso(doc["createdAt"]),
        "updatedAt": iso(doc["updatedAt"]),
        "validatedAt": _iso_or_none(doc.get("validatedAt")),
        "synchronized": bool(doc.get("synchronized")),
        "synchronizedAt": _iso_or_none(doc.get("synchronizedAt")),
        "lastError": doc.get("lastError"),
    }


SERVED_CACHE_KEY = "askara.served_documents"
SERVED_CACHE_LIMIT = 20_000


# -- notes and audios --------------------------------------------------------------------------


def consultation_summary(ctx: MockContext, patient: Record) -> str:
    """A French consultation summary: structured headings around Faker sentences."""
    gen = data_gen(ctx)
    rng, faker = gen.rng, gen.faker
    return "\n\n".join(
        (
            f"Motif de consultation : {rng.choice(MOTIFS)}.",
            f"Anamnèse : {patient['firstName'] or 'Le patient'} rapporte une évolution progressive. "
            + faker.sentence(nb_words=10),
            f"Examen clinique : {rng.choice(EXAMS)}",
            f"Conduite à tenir : {rng.choice(PLANS)} " + faker.sentence(nb_words=8),
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
        _apply(note, overrides, frozenset({"type", "content"}), "note")
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
    patient = _patient_for(ctx, patient_uuid)
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


# -- helpers -----------------------------------------------------------------------------------


def _apply(record: Record, overrides: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    _check_keys(overrides, allowed, what)
    record.update(overrides)


def _check_keys(overrides: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        message = f"This field is not expected on a {what}. Allowed fields: {', '.join(sorted(allowed))}."
        violations = [Violation(name, message, "unknown") for name in unknown]
        raise ValidationFailed(f"{unknown[0]}: {message}", violations=violations)


def _parse_time(value: str, field: str) -> int:
    try:
        return int(parse_iso(value))
    except ValueError:
        message = f"The value {value!r:.60} is not a valid ISO 8601 date-time."
        raise ValidationFailed(f"{field}: {message}", violations=[Violation(field, message, "datetime")]) from None


def _iso_or_none(value: float | None) -> str | None:
    return None if value is None else iso(value)


__all__ = [
    "DOCUMENT_TYPES", "DataGen", "build_document", "build_patient", "create_note", "data_gen",
    "new_document", "new_note", "new_patient", "public_document", "public_note",
    "reset_data_gen", "synchronize_document", "validate_document",
]  # fmt: skip
