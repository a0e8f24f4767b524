"""The seeded sources of every generated value, and the small rules every record shares.

Seeding, the control API and the webhook sender all create data, so one ``--seed`` fixes every
generated value: a ``random.Random`` seeded from ``settings.seed`` lives on the context
(``ctx.data_gen``); every uuid comes from it, and so does every name, word and address, drawn from
Faker's fr_FR data (:mod:`.fr_pools`) rather than from a Faker instance, which would cost
``serve`` ~0.3 s to import and build and each of 100 000 seeded records ~20 us. Records keep times as integer
mock epoch seconds (an API client sees whole seconds, so filters on what it saw must match).
Names, phones and e-mails are made up: phones are in ARCEP's range reserved for fiction
(06 39 98 xx xx) and e-mails use example.org/example.com.
"""

from __future__ import annotations

import functools
import random
import unicodedata
from typing import Any

from mock_server.core.context import MockContext
from mock_server.core.errors import Conflict, ValidationFailed, Violation
from mock_server.core.store import Record
from mock_server.core.timefmt import iso, parse_iso
from mock_server.domain.fr_pools import ADDRESSES, FIRST_NAMES_FEMALE, FIRST_NAMES_MALE, LAST_NAMES, WORDS

DAY = 86_400
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


_UUID_KEEP = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_UUID_SET = (0x8000 << 48) | (4 << 76)
"""The variant (RFC 4122) and version (4) bits ``uuid.UUID(int=..., version=4)`` sets."""


class DataGen:
    """The seeded sources of every generated value of one mock."""

    def __init__(self, seed: int | str) -> None:
        self.rng = random.Random(seed)

    def first_name(self, gender: str | None) -> str:
        """A French first name; ``female`` draws a woman's, anything else a man's (as Faker's fr_FR does)."""
        return self.rng.choice(FIRST_NAMES_FEMALE if gender == "female" else FIRST_NAMES_MALE)

    def last_name(self) -> str:
        return self.rng.choice(LAST_NAMES)

    def sentence(self, words: int) -> str:
        """A French lorem sentence of ``words`` words +/- 40 % (Faker's ``sentence`` rule)."""
        count = max(1, words * self.rng.randint(60, 140) // 100)
        text = " ".join(self.rng.choices(WORDS, k=count))
        return text[0].upper() + text[1:] + "."

    def address(self) -> tuple[str, str, str]:
        """(street address, postcode, city) in France."""
        return self.rng.choice(ADDRESSES)

    def uuid(self) -> str:
        """A version-4 uuid, as ``str(uuid.UUID(int=bits, version=4))`` spells it, at a third of its cost."""
        bits = (self.rng.getrandbits(128) & _UUID_KEEP) | _UUID_SET
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def digits(self, count: int) -> str:
        return "".join(str(self.rng.randrange(10)) for _ in range(count))

    def phone(self) -> str:
        return "+336399" + "8" + self.digits(4)


def reset_data_gen(ctx: MockContext) -> DataGen:
    """A generator at the start of the seed's sequence (seeding and reset start here)."""
    gen = DataGen(ctx.settings.seed)
    ctx.data_gen = gen
    return gen


def data_gen(ctx: MockContext) -> DataGen:
    """The context's generator; after a restart from ``--state`` it continues from what is stored."""
    if ctx.data_gen is None:
        store = ctx.store
        ctx.data_gen = DataGen(f"{ctx.settings.seed}/{len(store.patients)}/{len(store.documents)}/{len(store.notes)}")
    return ctx.data_gen


def fresh_uuid(ctx: MockContext, table: str) -> str:
    gen = data_gen(ctx)
    while True:
        candidate = gen.uuid()
        if candidate not in ctx.store.tables[table]:
            return candidate


@functools.lru_cache(maxsize=4096)
def ascii_slug(text: str) -> str:
    """``Hélène-Marie d'Aubigné`` -> ``Helene-Marie-dAubigne`` (file names and e-mail local parts).

    Cached: names come from small pools, and 100 000 seeded documents would slug them again and again."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(part for part in "".join(c if c.isalnum() or c in " -" else "" for c in plain).replace(" ", "-")
                    .split("-") if part)  # fmt: skip


def calendar_day(epoch: int) -> str:
    """``2026-12-02``: the UTC day of ``epoch`` (file names), cached per day, not per second."""
    return _day(epoch // DAY)


@functools.lru_cache(maxsize=1024)
def _day(day: int) -> str:
    return iso(day * DAY)[:10]


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


def apply_overrides(record: Record, overrides: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    check_keys(overrides, allowed, what)
    record.update(overrides)


def check_keys(overrides: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        message = f"This field is not expected on a {what}. Allowed fields: {', '.join(sorted(allowed))}."
        violations = [Violation(name, message, "unknown") for name in unknown]
        raise ValidationFailed(f"{unknown[0]}: {message}", violations=violations)


def parse_time(value: str, field: str) -> int:
    try:
        return int(parse_iso(value))
    except ValueError:
        message = f"The value {value!r:.60} is not a valid ISO 8601 date-time."
        raise ValidationFailed(f"{field}: {message}", violations=[Violation(field, message, "datetime")]) from None


def iso_or_none(value: float | None) -> str | None:
    return None if value is None else iso(value)
