"""The authorization code grant: ``GET/POST /authorize`` (consent) and the code exchange.

Order of checks follows RFC 6749 section 4.1.2.1: a wrong ``client_id`` or ``redirect_uri`` is
shown to the user as a page and never redirected (redirecting to an unverified URI would make the
mock an open redirector); every later problem goes back to the client as ``?error=...&state=``.
Codes are single-use, short-lived on the mock clock and bound to client, redirect URI and scopes;
each code starts a token *family*, so reusing it can revoke what it produced.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mock_server.api.oauth.consent import consent_page, error_page
from mock_server.api.oauth.params import FORM, Params, content_type, parse_form, require, validate_scopes
from mock_server.core.context import MockContext
from mock_server.core.errors import Conflict, OAuthError
from mock_server.core.store import Record
from mock_server.core.tokens import league_ciphertext, league_identifier
from mock_server.web.http import read_body

AUTHORIZE_FIELDS = ("response_type", "client_id", "redirect_uri", "scope", "state")


def consenting_user(ctx: MockContext) -> Record:
    """The clinician who consents in the mock: the first seeded user."""
    users = ctx.store.users.values()
    if not users:
        raise Conflict("No clinician is seeded in the mock, so nobody can consent; seed or reset the mock first.")
    return users[0]


def redirect_to(redirect_uri: str, params: dict[str, str]) -> RedirectResponse:
    """302 to ``redirect_uri`` with ``params`` added to whatever query it already has."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    location = urlunsplit(parts._replace(query=urlencode(query)))
    return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})


async def _request_params(request: Request) -> tuple[Params, list[str]]:
    """The authorization request's parameters (query for GET, form for POST) and repeated names."""
    if request.method == "GET":
        params: Params = {}
        repeated: list[str] = []
        for name, value in request.query_params.multi_items():
            if name in params:
                repeated.append(name)
            if value != "":
                params[name] = value
        return params, repeated
    if content_type(request) != FORM:
        raise OAuthError("invalid_request", f'The consent form must be posted as "{FORM}".')
    raw = await read_body(request, request.app.state.mock.settings.max_body_bytes)
    return parse_form(raw), []


async def authorize(request: Request) -> Response:
    """GET shows the consent page (or approves at once); POST carries the user's decision."""
    ctx: MockContext = request.app.state.mock
    try:
        params, repeated = await _request_params(request)
    except OAuthError as exc:
        return error_page("Invalid authorization request", exc.description)
    client_id = params.get("client_id")
    request.scope.setdefault("askara.note", {})["client_id"] = client_id
    for name in ("client_id", "redirect_uri"):
        if name in repeated:
            return error_page("Invalid authorization request", f'The parameter "{name}" is included more than once.')
    if client_id is None:
        return error_page("Invalid authorization request", 'The request is missing the parameter "client_id".')
    if client_id != ctx.settings.client_id:
        return error_page("Unknown application", f'No application is registered with client_id "{client_id}".')
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None:
        return error_page("Invalid authorization request", 'The request is missing the parameter "redirect_uri".')
    if redirect_uri not in ctx.settings.redirect_uris:
        return error_page(
            "Invalid redirect URI",
            f'The redirect_uri "{redirect_uri}" is not registered for this application; it must match exactly.',
        )
    if request.method == "POST" and params.get("decision") not in ("approve", "deny"):
        # A broken consent form, whatever else it carries: said on the page, not sent to the client.
        return error_page("Invalid consent", 'The form field "decision" must be "approve" or "deny".')
    state = params.get("state")

    def back(error: str, description: str) -> RedirectResponse:
        answer = {"error": error, "error_description": description}
        if state is not None:
            answer["state"] = state
        return redirect_to(redirect_uri, answer)

    if repeated:
        return back("invalid_request", f'The parameter "{repeated[0]}" is included more than once.')
    response_type = params.get("response_type")
    if response_type is None:
        return back("invalid_request", 'The request is missing the parameter "response_type".')
    if response_type != "code":
        return back("unsupported_response_type", f'response_type "{response_type}" is not supported; use "code".')
    try:
        scopes = validate_scopes(params.get("scope"))
    except OAuthError as exc:
        return back(exc.error, exc.description)
    user = consenting_user(ctx)
    if request.method == "POST":
        if params["decision"] == "deny":
            return back("access_denied", "The resource owner denied the request.")
    elif not ctx.settings.auto_approve:
        fields = {name: params[name] for name in AUTHORIZE_FIELDS if name in params}
        return consent_page(client_id, str(user.get("email") or ""), scopes, fields)
    code = issue_code(ctx, client_id, redirect_uri, scopes, str(user["uuid"]))
    answer = {"code": code}
    if state is not None:
        answer["state"] = state
    return redirect_to(redirect_uri, answer)


def issue_code(ctx: MockContext, client_id: str, redirect_uri: str, scopes: list[str], user_id: str) -> str:
    """A fresh single-use code shaped like league's (``def50200…``, several hundred characters)."""
    now = ctx.clock.now()
    _forget_stale_codes(ctx, now)
    expires_at = now + ctx.settings.authorization_code_ttl
    payload = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "auth_code_id": league_identifier(),
        "scopes": scopes,
        "user_id": user_id,
        "expire_time": int(expires_at),
        "code_challenge": None,
        "code_challenge_method": None,
    }
    code = league_ciphertext(payload)
    ctx.store.auth_codes.put(
        code,
        {
            "code": code,
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scopes": scopes,
            "user_id": user_id,
            "family": uuid.uuid4().hex,
            "issued_at": now,
            "expires_at": expires_at,
            "used_at": None,
        },
    )
    return code


def _forget_stale_codes(ctx: MockContext, now: float) -> None:
    """Drop codes expired for over a day (reuse detection only matters while one could be replayed)."""
    for record in ctx.store.auth_codes:
        if record["expires_at"] + 86_400 < now:
            ctx.store.auth_codes.delete(record["code"])


def exchange_code(ctx: MockContext, params: Params, client_id: str, note: dict[str, Any]) -> dict[str, Any]:
    """The ``authorization_code`` grant: a token pair for a valid, unused code."""
    code = require(params, "code")
    redirect_uri = require(params, "redirect_uri")
    record = ctx.store.auth_codes.get(code)
    if record is None:
        note["code_outcome"] = "unknown"
        raise OAuthError("invalid_grant", "The authorization code is invalid.")
    note["code_family"] = record["family"]
    if record["client_id"] != client_id:
        note["code_outcome"] = "wrong_client"
        raise OAuthError("invalid_grant", "The authorization code was not issued to this client.")
    if record["used_at"] is not None:
        note["code_outcome"] = "reused"
        ctx.tokens.revoke_family(record["family"], reason="authorization code used twice")
        raise OAuthError(
            "invalid_grant", "The authorization code has already been used; the tokens issued from it are revoked."
        )
    if ctx.clock.now() >= record["expires_at"]:
        note["code_outcome"] = "expired"
        raise OAuthError("invalid_grant", "The authorization code has expired.")
    if redirect_uri != record["redirect_uri"]:
        note["code_outcome"] = "redirect_uri_mismatch"
        raise OAuthError("invalid_grant", "The redirect_uri does not match the one of the authorization request.")
    record["used_at"] = ctx.clock.now()
    ctx.store.auth_codes.save(code)
    note["code_outcome"] = "exchanged"
    return ctx.tokens.issue_pair(client_id, record["user_id"], list(record["scopes"]), family=record["family"])
