"""Everything the mock serves that Askara does not document, listed once, so it can say when it is relied on.

Each :class:`Assumption` names what the mock does where Askara's guides are silent, what that
choice rests on (a library's default behaviour, API Platform's conventions, our guess), whether
the mock is stricter, equal or more lenient than that source, and what to verify in Askara's
staging. Its ``id`` is the anchor of its entry in ``docs/assumptions.md``.

A handler that serves something resting on an assumption calls :func:`rely` with the request's
ASGI scope; the web layer turns what was relied on into the ``X-Askara-Mock-Assumptions`` response
header, a journal note and the counts of ``GET /_mock/assumptions`` (:class:`AssumptionUsage`,
kept on the context). ``invented`` entries (operations or fields Askara does not document at all)
name their ``operations`` and ``fields``: ``serve --documented-only`` removes those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

Leniency = Literal["stricter", "equal", "more lenient"]
SCOPE_KEY = "askara.assumptions"
"""Where a request's relied-on assumption ids gather (a list in the ASGI scope)."""
HEADER = "X-Askara-Mock-Assumptions"
"""The response header naming the assumptions an answer rested on (comma separated ids)."""
DOCS = "docs/assumptions.md"


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
    operations: tuple[str, ...] = ()
    """``"METHOD /path"`` (route paths) that exist only because of this assumption."""
    fields: tuple[str, ...] = ()
    """Top-level fields of a served resource that exist only because of this assumption."""

    @property
    def anchor(self) -> str:
        return f"{DOCS}#{self.id}"

    def describe(self) -> dict[str, Any]:
        """The entry as the control API and the reports show it."""
        return {
            "id": self.id,
            "text": self.text,
            "source": self.source,
            "leniency": self.leniency,
            "verify": self.verify,
            "invented": self.invented,
            "operations": list(self.operations),
            "fields": list(self.fields),
            "docs": self.anchor,
        }


_REGISTRY: dict[str, Assumption] = {}


def assumption(
    id: str,
    text: str,
    *,
    source: str,
    leniency: Leniency,
    verify: str,
    invented: bool = False,
    operations: Iterable[str] = (),
    fields: Iterable[str] = (),
) -> Assumption:
    """Register an assumption; an id registered twice, or operations on a non-invented one, is a programming error."""
    if id in _REGISTRY:
        raise ValueError(f"assumption {id!r} is registered twice")
    entry = Assumption(id, text, source, leniency, verify, invented, tuple(operations), tuple(fields))
    if (entry.operations or entry.fields) and not invented:
        raise ValueError(f"assumption {id!r} names operations or fields but is not invented")
    for operation in entry.operations:
        method, _, path = operation.partition(" ")
        if method != method.upper() or not path.startswith("/"):
            raise ValueError(f"assumption {id!r}: operation {operation!r} is not 'METHOD /path'")
    _REGISTRY[id] = entry
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


def relied_on(scope: Mapping[str, Any]) -> list[str]:
    return list(scope.get(SCOPE_KEY, ()))


def invented_operations() -> set[tuple[str, str]]:
    """(method, route path) of every operation ``--documented-only`` removes."""
    found = set()
    for entry in _REGISTRY.values():
        for operation in entry.operations:
            method, _, path = operation.partition(" ")
            found.add((method, path))
    return found


def without_invented_fields(body: dict[str, Any], entry: Assumption) -> dict[str, Any]:
    """``body`` minus the fields ``entry`` invented (what ``--documented-only`` serves)."""
    return {key: value for key, value in body.items() if key not in entry.fields}


def served_form(
    scope: MutableMapping[str, Any], entry: Assumption, documented_only: bool
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """How this answer shapes a resource ``entry`` invented fields of: without them under
    ``--documented-only``, otherwise as it is (and the answer relies on ``entry``)."""
    if documented_only:
        return lambda body: without_invented_fields(body, entry)
    rely(scope, entry.id)
    return _as_is


def _as_is(body: dict[str, Any]) -> dict[str, Any]:
    return body


# -- what was relied on since start --------------------------------------------------------------


@dataclass(frozen=True)
class FirstUse:
    """The first request whose answer rested on an assumption."""

    journal_id: int
    method: str
    path: str
    at: float
    """Mock time (epoch seconds)."""


@dataclass
class Usage:
    count: int
    first: FirstUse


@dataclass
class AssumptionUsage:
    """How many answers rested on each assumption since start (or the last reset), and the first one."""

    by_id: dict[str, Usage] = field(default_factory=dict)

    def record(self, ids: Iterable[str], first: FirstUse) -> None:
        for assumption_id in ids:
            usage = self.by_id.get(assumption_id)
            if usage is None:
                self.by_id[assumption_id] = Usage(1, first)
            else:
                usage.count += 1

    def clear(self) -> None:
        self.by_id.clear()


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
    operations=("GET /.well-known/jwks.json",),
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
    "Documents carry title, validatedAt, synchronizedAt and lastError beyond the guide's fields "
    "(uuid, type, state, patient, pdf; createdAt, updatedAt and synchronized are kept as every Askara "
    "resource has the first two and the documented synchronized filter implies the third).",
    source="our guess at the full Document schema (the guide shows uuid, type, state, patient, pdf)",
    leniency="more lenient",
    verify="that the fields your integration reads exist in Askara's Document schema",
    invented=True,
    fields=("title", "validatedAt", "synchronizedAt", "lastError"),
)
PATIENT_READ_ONE = assumption(
    "patient-read-one",
    "GET /patients/{uuid} answers one patient, as API Platform's default Get operation does.",
    source="API Platform's default operations; Askara's reference shows only GET and POST /patients",
    leniency="equal",
    verify="that Askara serves GET /patients/{uuid} before your integration reads a patient by uuid",
    invented=True,
    operations=("GET /patients/{uuid}",),
)
DOCUMENT_STATUS_ANSWER = assumption(
    "document-status-answer",
    "POST /documents/{uuid}/status answers 200 with the document as it now is.",
    source="API Platform: a custom operation answers with its resource; the guide gives no answer",
    leniency="equal",
    verify="that your integration accepts any 2xx and does not depend on the answer's body (201, 204 are possible)",
)
COLLECTION_JSON_ARRAY = assumption(
    "collection-json-array",
    "A list asked for as application/json is a plain JSON array (no totalItems, no next-page link).",
    source="API Platform's default for the json format; Askara does not show a list answer",
    leniency="equal",
    verify="the shape of Askara's list answers and how your integration finds the last page",
)
NOTE_AUDIO_FIELD = assumption(
    "note-audio-field",
    "Notes read through the API carry audio, the IRI of their source audio (/audios/{uuid}).",
    source="our guess from the note guide (fetch the note for its audio) and the audio filter of /notes",
    leniency="more lenient",
    verify="the name and form of the audio field in Askara's Note schema",
    invented=True,
    fields=("audio",),
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

FILES_BUCKET = assumption(
    "files-bucket",
    "PDF links point to the bucket askara-documents, on a host of its own (the files origin).",
    source="our guess; Askara's guide says only that the link is pre-signed, and its stack stores files on AWS S3",
    leniency="equal",
    verify="nothing: treat pdf.url as opaque (never build, parse or rewrite it, never add headers to it)",
)
FILES_REGION = assumption(
    "files-region",
    "Links are signed for region eu-west-3 (X-Amz-Credential .../eu-west-3/s3/aws4_request).",
    source="our guess (Paris, for a French medical-data host); S3 signs each link for its bucket's region",
    leniency="equal",
    verify="nothing: the region is part of an opaque link",
)
FILES_PATH_STYLE = assumption(
    "files-path-style",
    "Links are path-style (http://host/bucket/key), not virtual-hosted (http://bucket.host/key).",
    source="our guess; a loopback mock has no bucket subdomains, and S3 answers both styles alike",
    leniency="equal",
    verify="that your HTTP client sends the link's host and path unchanged (the signature covers both)",
)
FILES_OBJECT_METADATA = assumption(
    "files-object-metadata",
    "The PDF object is stored with Content-Type application/pdf and no Content-Disposition.",
    source="our guess at how Askara uploads the file; S3 serves the metadata given at upload",
    leniency="equal",
    verify="nothing to rely on: check the body (%PDF- ... %%EOF) and take the file name from pdf.fileName",
)

# (end of Files)

# -- Webhooks and the sender --------------------------------------------------------------------

WEBHOOK_CRUD = assumption(
    "webhook-crud",
    "GET/PUT/PATCH/DELETE /webhooks and GET /webhooks/{uuid} follow API Platform conventions.",
    source="API Platform defaults; Askara documents only POST /webhooks",
    leniency="equal",
    verify="that your Askara environment offers these operations before your integration depends on them",
    invented=True,
    operations=(
        "GET /webhooks",
        "GET /webhooks/{uuid}",
        "PUT /webhooks/{uuid}",
        "PATCH /webhooks/{uuid}",
        "DELETE /webhooks/{uuid}",
    ),
)
WEBHOOK_SCOPE = assumption(
    "webhook-organization-scope",
    "Every /webhooks call needs the organization scope.",
    source="the expand[] groups organization.read_webhooks in Askara's reference",
    leniency="stricter",
    verify="which scope Askara's staging requires for /webhooks",
)
WEBHOOK_CREATE_ANSWER = assumption(
    "webhook-create-answer",
    "POST /webhooks answers 201 with the webhook (uuid, url, events, active, createdAt, updatedAt) and a Location.",
    source="API Platform's default Post operation; Askara does not show the answer",
    leniency="equal",
    verify="the status and body of Askara's answer before your integration keeps the webhook's uuid from it",
)

# (end of Webhooks and the sender)
