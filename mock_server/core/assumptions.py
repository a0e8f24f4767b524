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
)
WEBHOOK_SCOPE = assumption(
    "webhook-organization-scope",
    "Every /webhooks call needs the organization scope.",
    source="the expand[] groups organization.read_webhooks in Askara's reference",
    leniency="stricter",
    verify="which scope Askara's staging requires for /webhooks",
)

# (end of Webhooks and the sender)
