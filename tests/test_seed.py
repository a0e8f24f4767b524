"""The seed: deterministic for a seed and a clock, French data from Faker's fr_FR lists, any size."""

from __future__ import annotations

import re

from faker.providers.lorem.fr_FR import Provider as FrenchLorem
from faker.providers.person.fr_FR import Provider as FrenchPerson

from mock_server.core.context import MockContext
from mock_server.domain import fr_pools
from mock_server.domain.seed import seed_store
from tests.conftest import make_settings


def seeded(**overrides: object) -> MockContext:
    ctx = MockContext(make_settings(**overrides))
    seed_store(ctx)
    return ctx


def test_the_pools_are_fakers_french_lists() -> None:
    assert fr_pools.FIRST_NAMES_FEMALE == FrenchPerson.first_names_female
    assert fr_pools.FIRST_NAMES_MALE == FrenchPerson.first_names_male
    assert fr_pools.LAST_NAMES == FrenchPerson.last_names
    assert fr_pools.WORDS == tuple(dict.fromkeys(FrenchLorem.word_list))
    assert all(re.fullmatch(r"\d{5}", postcode) for _, postcode, _ in fr_pools.ADDRESSES)


def test_the_same_seed_and_clock_give_the_same_world() -> None:
    first, second = seeded(seed_documents=300, seed_notes=20), seeded(seed_documents=300, seed_notes=20)
    for name in ("organizations", "users", "patients", "documents", "notes", "audios"):
        assert first.store.tables[name].values() == second.store.tables[name].values(), name
    other = seeded(seed=2, seed_documents=300, seed_notes=20)
    assert [d["uuid"] for d in other.store.documents] != [d["uuid"] for d in first.store.documents]


def test_a_backlog_of_any_size_is_realistic() -> None:
    ctx = seeded(seed_documents=2000, seed_notes=300, seed_patients=150)
    now = int(ctx.clock.now())
    documents, patients = ctx.store.documents.values(), ctx.store.patients.values()
    assert (len(documents), len(patients), len(ctx.store.notes), len(ctx.store.audios)) == (2000, 150, 300, 300)
    assert len({d["uuid"] for d in documents}) == 2000
    synced = [d for d in documents if d["synchronized"]]
    assert 0.4 < len(synced) / 2000 < 0.6 and all(d["synchronizedAt"] >= d["validatedAt"] for d in synced)
    for doc in documents:
        assert doc["state"] == "verified" and doc["createdAt"] <= doc["validatedAt"] <= doc["updatedAt"] <= now
        assert re.fullmatch(r"[a-z-]+-[A-Z-]+-[A-Za-z-]+-\d{4}-\d{2}-\d{2}\.pdf", doc["pdf"]["fileName"]), doc
    names = {*fr_pools.FIRST_NAMES_FEMALE, *fr_pools.FIRST_NAMES_MALE}
    for patient in patients:
        assert patient["firstName"] in names and patient["lastName"] in fr_pools.LAST_NAMES
        assert patient["email"] is None or patient["email"].isascii()
    women = [p for p in patients if p["gender"] == "female"]
    assert women and all(p["firstName"] in fr_pools.FIRST_NAMES_FEMALE for p in women)
    note = ctx.store.notes.values()[0]
    assert note["content"].startswith("Motif de consultation : ") and note["content"].endswith(".")
