"""The seeded world: one French practice, its clinician, patients, validated documents, notes.

Everything comes from ``settings.seed`` (Faker fr_FR and ``random.Random``, see
``domain.DataGen``) and every time is counted back from ``ctx.clock.now()``, so two mocks
with the same seed and the same clock start serve identical bodies. Seeding is history: it
emits no events (no webhook fires for documents validated before the mock started).

``serve --documents 100000`` seeds a backlog in about a second: one store batch (the sorted views
built once at the end), names from pools (``DataGen``), and the seed's own times drawn with
``random()`` rather than ``randint`` (a third of the cost; as deterministic), and the cyclic
garbage collector paused meanwhile (it would scan the growing heap again and again for cycles
that records never form: ~20 % of the time).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from mock_server import domain
from mock_server.core.context import MockContext
from mock_server.core.store import Record
from mock_server.domain.datagen import DAY, DataGen, ascii_slug

HOUR = 3600
# Rough bounding box of metropolitan France, for made-up coordinates.
LATITUDES = (43.3, 50.6)
LONGITUDES = (-1.5, 7.5)


def seed_store(ctx: MockContext) -> None:
    """Fill an empty store with the seed's data (also called by the control API's reset)."""
    gen = domain.reset_data_gen(ctx)
    now = domain.now_int(ctx)
    settings = ctx.settings
    with _collector_paused(), ctx.store.batch():
        org = _organization(ctx, gen, now)
        _clinician(ctx, gen, org, now)
        patients = [domain.new_patient(ctx, at=now - _between(gen, 30 * DAY, 365 * DAY))
                    for _ in range(settings.seed_patients)]  # fmt: skip
        for _ in range(settings.seed_documents):
            _seed_document(ctx, gen, patients, now)
        for _ in range(settings.seed_notes):
            patient = _some_patient(ctx, gen, patients, now)
            at = now - _between(gen, HOUR, 20 * DAY)
            domain.create_note(ctx, patient, at=max(at, patient["createdAt"] + HOUR))


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _between(gen: DataGen, low: int, high: int) -> int:
    """An int in [low, high], like ``randint`` at a third of its cost (the seed draws 300 000 of them)."""
    return low + int(gen.rng.random() * (high - low + 1))


def _organization(ctx: MockContext, gen: DataGen, now: int) -> Record:
    rng = gen.rng
    founder = gen.last_name()
    street, postcode, city = gen.address()
    created = now - 400 * DAY
    slug = ascii_slug(founder).lower()
    org: Record = {
        "uuid": domain.fresh_uuid(ctx, "organizations"),
        "name": f"Cabinet médical {founder}",
        "vatNumber": "FR" + gen.digits(11),
        "streetAddress": street,
        "postalCode": postcode,
        "city": city,
        "country": "FR",
        "latitude": round(rng.uniform(*LATITUDES), 4),
        "longitude": round(rng.uniform(*LONGITUDES), 4),
        "timezone": "Europe/Paris",
        "phone": gen.phone(),
        "secretariatEmail": f"secretariat@cabinet-{slug}.example.org",
        "website": f"https://cabinet-{slug}.example.org",
        "dentalNomenclatureSystem": None,
        "createdAt": created,
        "updatedAt": created,
    }
    return ctx.store.organizations.put(org["uuid"], org)


def _clinician(ctx: MockContext, gen: DataGen, org: Record, now: int) -> Record:
    """The first user: the clinician who consents to OAuth (REF-USER fields)."""
    rng = gen.rng
    gender = rng.choice(("female", "male"))
    first, last = gen.first_name(gender), gen.last_name()
    created = now - 380 * DAY
    user = {
        "uuid": domain.fresh_uuid(ctx, "users"),
        "email": f"{ascii_slug(first)}.{ascii_slug(last)}@example.com".lower(),
        "firstName": first,
        "lastName": last,
        "phone": gen.phone(),
        "gender": gender,
        "isVerified": True,
        "rpps": "10" + gen.digits(9),
        "am": f"{rng.randint(1, 95):02d}1" + gen.digits(6),
        "language": "fr",
        "timezone": "Europe/Paris",
        "languageSpoken": "fr",
        "languageDocument": "fr",
        "languageSpokenAutoDetect": False,
        "organizationRole": "ROLE_ORGANIZATION_ADMIN",
        "createdAt": created,
        "updatedAt": created,
        "_organization_id": org["uuid"],
    }
    return ctx.store.users.put(user["uuid"], user)


def _some_patient(ctx: MockContext, gen: DataGen, patients: list[Record], now: int) -> Record:
    if not patients:
        patients.append(domain.new_patient(ctx, at=now - 60 * DAY))
    return gen.rng.choice(patients)


def _seed_document(ctx: MockContext, gen: DataGen, patients: list[Record], now: int) -> Record:
    """A document validated in the past; about half were already imported by the integration."""
    patient = _some_patient(ctx, gen, patients, now)
    oldest = patient["createdAt"] + HOUR
    created = _between(gen, min(oldest, now - 3 * HOUR), now - 3 * HOUR)
    doc = domain.build_document(ctx, patient, at=created)
    validated = created + _between(gen, 5 * 60, 2 * HOUR)
    doc["state"], doc["validatedAt"], doc["updatedAt"] = "verified", validated, validated
    if gen.rng.random() < 0.5:
        synced = validated + _between(gen, 10, 600)
        doc["synchronized"], doc["synchronizedAt"], doc["updatedAt"] = True, synced, synced
    return ctx.store.documents.put(doc["uuid"], doc)
