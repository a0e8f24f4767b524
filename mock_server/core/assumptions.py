"""Everything the mock serves that Askara does not document, listed once, so it can say when it is relied on.

Each :class:`Assumption` names what the mock does where Askara's guides are silent, what that
choice rests on (a library's default behaviour, API Platform's conventions, our guess), whether
the mock is stricter, equal or more lenient than that source, and what to verify in Askara's
staging. Its ``id`` is the anchor of its entry in ``docs/assumptions.md``.

A handler that serves something resting on an assumption calls :func:`rely` with the request's
ASGI scope; the web layer turns what was relied on into a response header, a journal note and
the counts of ``GET /_mock/assumptions``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

Leniency = Literal["stricter", "equal", "more lenient"]
SCOPE_KEY = "askara.assumptions"
"""Where a request's relied-on assumption ids gather (a list in the ASGI scope)."""


@dataclass(frozen=True)
class Assumption:
    id: str
    text: str
    """What the mock does."""
    source: str
    """What the choice rests on."""
    leniency: Leniency
    """The mock compared with that source."""
    verify: str
    """What an integrator should check in Askara's staging before relying on it."""
    invented: bool = False
    """An operation or field Askara does not document at all (``serve --documented-only`` turns it off)."""


_REGISTRY: dict[str, Assumption] = {}


def assumption(
    id: str, text: str, *, source: str, leniency: Leniency, verify: str, invented: bool = False
) -> Assumption:
    """Register an assumption; an id registered twice is a programming error."""
    if id in _REGISTRY:
        raise ValueError(f"assumption {id!r} is registered twice")
    entry = _REGISTRY[id] = Assumption(id, text, source, leniency, verify, invented)
    return entry


def all_assumptions() -> dict[str, Assumption]:
    return dict(_REGISTRY)


def rely(scope: MutableMapping[str, Any], assumption_id: str) -> None:
    """Note that the answer to this request rests on ``assumption_id`` (which must be registered)."""
    if assumption_id not in _REGISTRY:
        raise KeyError(f"unknown assumption {assumption_id!r}; register it in mock_server.core.assumptions")
    relied = scope.setdefault(SCOPE_KEY, [])
    if assumption_id not in relied:
        relied.append(assumption_id)


def relied_on(scope: MutableMapping[str, Any]) -> list[str]:
    return list(scope.get(SCOPE_KEY, ()))


# -- the list ----------------------------------------------------------------------------------
# Grouped by subject; each id is a heading anchor in docs/assumptions.md. Add an entry under its subject.

# -- OAuth2: tokens, endpoints, flows ------------------------------------------------------------

JWKS = assumption(
    "jwks-endpoint",
    "GET /.well-known/jwks.json publishes the access tokens' public key.",
    source="our guess; league/oauth2-server documents no JWKS endpoint",
    leniency="more lenient",
    verify="that Askara publishes a JWKS before validating access tokens locally (treat them as opaque)",
    invented=True,
)

# (end of OAuth2)

# -- HTTP and API Platform: routing, filters, negotiation, resources ----------------------------

PATIENTS_NO_SCOPE = assumption(
    "patients-any-scope",
    "/patients needs a valid access token but no particular scope.",
    source="Askara's reference shows an empty Security line for /patients",
    leniency="more lenient",
    verify="which scope Askara's staging requires for /patients",
)
DOCUMENT_EXTRA_FIELDS = assumption(
    "document-extra-fields",
    "Documents carry title, validatedAt, synchronizedAt and lastError beyond the guide's fields.",
    source="our guess at the full Document schema (the guide shows uuid, type, state, patient, pdf)",
    leniency="more lenient",
    verify="that the fields your integration reads exist in Askara's Document schema",
    invented=True,
)
ME_POST = assumption(
    "me-post",
    "POST /me answers like GET /me (only with serve --me-accepts-post; by default it is a 405).",
    source="the quickstart's curl calls POST /me; the API reference documents GET only",
    leniency="more lenient",
    verify="that POST /me works in Askara's staging before calling it; GET /me is the documented method",
)
DOCUMENT_FILTERS = assumption(
    "document-filters",
    "GET /documents also filters on uuid, type, patient, patient.externalId, createdAt/updatedAt/validatedAt/"
    "synchronizedAt[after|before|strictly_after|strictly_before] and orders on those dates.",
    source="API Platform's SearchFilter, DateFilter and OrderFilter; the guide documents only synchronized",
    leniency="more lenient",
    verify="that each filter your integration sends besides synchronized exists in Askara (an unknown one is ignored)",
    invented=True,
)
NOTE_FILTERS = assumption(
    "note-filters",
    "GET /notes also filters on uuid, type, createdAt[before|strictly_after|strictly_before], updatedAt[...] and "
    "orders on updatedAt.",
    source="API Platform's SearchFilter, DateFilter and OrderFilter; the guide documents patient, audio, "
    "createdAt[after] and order[createdAt]",
    leniency="more lenient",
    verify="that each filter your integration sends besides the guide's exists in Askara (an unknown one is ignored)",
    invented=True,
)
PATIENT_SEARCH = assumption(
    "patient-search",
    "search on /patients looks in firstName, lastName, email, phone and externalId, case- and accent-insensitively; "
    "every word must appear in one of them.",
    source="the reference documents a global search parameter without its fields",
    leniency="more lenient",
    verify="which fields Askara's patient search covers before searching by phone, email or externalId",
)
AUDIO_RESOURCE = assumption(
    "audio-resource",
    "GET /audios/{uuid} and the items of GET /audios serve uuid, patient, user, documents, languageSpoken, duration, "
    "createdAt, updatedAt, archivedAt; search looks in the patient's names; expand[] embeds the patient.",
    source="the filters and expand[] groups of Askara's reference (the audio schema was not published); duration "
    "is the mock's",
    leniency="more lenient",
    verify="the fields of Askara's audio schema before reading more than uuid and patient",
    invented=True,
)
AUDIO_SCOPE = assumption(
    "audio-scope",
    "/audios needs the read:notes scope.",
    source="notes are generated from audios (note-synchronization guide); Askara documents no scope for /audios",
    leniency="stricter",
    verify="which scope Askara's staging requires for /audios",
)

# (end of HTTP and API Platform)

# -- Files: pre-signed links and the files origin -----------------------------------------------

# (end of Files)

# -- Webhooks and the sender --------------------------------------------------------------------

WEBHOOK_CRUD = assumption(
    "webhook-crud",
    "GET/PUT/PATCH/DELETE /webhooks and GET /webhooks/{uuid} follow API Platform conventions.",
    source="API Platform defaults; Askara documents only POST /webhooks",
    leniency="equal",
    verify="that your Askara environment offers these operations before your integration depends on them",
    invented=True,
)
WEBHOOK_SCOPE = assumption(
    "webhook-organization-scope",
    "Every /webhooks call needs the organization scope.",
    source="the expand[] groups organization.read_webhooks in Askara's reference",
    leniency="stricter",
    verify="which scope Askara's staging requires for /webhooks",
)

# (end of Webhooks and the sender)
