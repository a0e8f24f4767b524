"""``/me``: the authenticated clinician, with their organization embedded.

The API reference documents ``GET /me``; both versions of the quickstart call it with ``POST``,
most likely a slip. Two Askara pages disagreeing, the mock takes the stricter reading: ``POST /me``
is a 405 (``Allow: GET, HEAD``) that says so, unless ``me_accepts_post`` (``serve
--me-accepts-post``) makes it answer like GET. The shape is the reference's (singular
``organization`` and ``organizationRole``), the authoritative schema.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.api.oauth.guard import authenticate
from mock_server.core.assumptions import rely
from mock_server.core.context import MockContext
from mock_server.core.settings import Settings
from mock_server.core.store import Record
from mock_server.core.timefmt import iso
from mock_server.web.collections import CollectionSpec, item_response
from mock_server.web.routing import ExplainedRefusal

USER_FIELDS = (
    "uuid", "email", "firstName", "lastName", "phone", "gender", "isVerified", "rpps", "am", "language",
    "timezone", "languageSpoken", "languageDocument", "languageSpokenAutoDetect",
)  # fmt: skip
ORGANIZATION_FIELDS = (
    "uuid", "name", "vatNumber", "streetAddress", "postalCode", "city", "country", "latitude", "longitude",
    "timezone", "phone", "secretariatEmail", "website", "dentalNomenclatureSystem",
)  # fmt: skip
SPEC = CollectionSpec(resource="User", path="/users")


POST_REFUSED = (
    "Askara's API reference documents GET /me only; the quickstart's POST /me is most likely a slip. "
    "Call GET /me (or start the mock with --me-accepts-post to allow POST)."
)


def routes(settings: Settings) -> list[BaseRoute]:
    if settings.me_accepts_post:
        return [Route("/me", me, methods=["GET", "POST"])]
    return [Route("/me", me, methods=["GET"]), ExplainedRefusal("/me", "POST", POST_REFUSED)]


async def me(request: Request) -> Response:
    token = authenticate(request, "profile")
    if request.method == "POST":
        rely(request.scope, "me-post")
    ctx: MockContext = request.app.state.mock
    user = ctx.store.users.require(token.user_id, "User")
    return item_response(request, SPEC, user["uuid"], public_user(ctx, user))


def public_user(ctx: MockContext, user: Record) -> dict[str, Any]:
    """REF-USER fields, ``organization`` embedded (or null), then ``organizationRole``."""
    body = {name: user.get(name) for name in USER_FIELDS}
    org = ctx.store.organizations.get(user.get("_organization_id") or "")
    body["organization"] = public_organization(org) if org is not None else None
    body["organizationRole"] = user.get("organizationRole") if org is not None else None
    return body


def public_organization(org: Record) -> dict[str, Any]:
    body = {name: org.get(name) for name in ORGANIZATION_FIELDS}
    body["createdAt"] = iso(org["createdAt"])
    body["updatedAt"] = iso(org["updatedAt"])
    return body
