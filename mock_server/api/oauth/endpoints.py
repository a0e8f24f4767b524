"""The OAuth2 routes: ``/authorize``, ``/oauth2/token``, the device flow, and the JWKS.

The token endpoint reads JSON (as Askara's guides send) or form (as RFC 6749 says), checks the
grant type before the client (league/oauth2-server's order), then hands over to one function
per grant. There is no client credentials grant: Askara documents none, and a mock that issued
such tokens would let an integration pass here and fail in production.

Each call leaves notes for the request journal (``grant_type``, ``client_id``, and for refreshes
``refresh_family``, ``refresh_outcome``, ``refresh_token_issued_at``; ``revoked_access_jti`` and
``issued_access_jti`` on a rotation; ``refresh_reuse`` and ``revoked_tokens`` on a reuse; the
presented and issued lengths of a truncated token), which the conformance harness reads to tell
"presented a spent refresh token" or "kept a replaced access token" from other failures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.api.oauth.authorize import authorize, exchange_code
from mock_server.api.oauth.device import DEVICE_GRANT, NO_STORE, device_authorization, device_page, exchange_device_code
from mock_server.api.oauth.params import Params, authenticate_client, read_params, require, validate_scopes
from mock_server.core.assumptions import rely
from mock_server.core.context import MockContext
from mock_server.core.errors import OAuthError
from mock_server.core.token_refusals import RefreshRefused
from mock_server.web.http import json_response

Grant = Callable[[MockContext, Params, str, dict[str, Any]], dict[str, Any]]


def refresh_grant(ctx: MockContext, params: Params, client_id: str, note: dict[str, Any]) -> dict[str, Any]:
    """Rotate a refresh token, optionally narrowing the scope (RFC 6749 section 6)."""
    token = require(params, "refresh_token")
    scope = params.get("scope")
    if scope is not None:
        scope = " ".join(validate_scopes(scope))
    outcome, record = ctx.tokens.refresh_outcome(token, client_id)
    note["refresh_outcome"] = outcome
    if record is not None:
        note["refresh_family"] = record["family"]
        note["refresh_token_issued_at"] = record["issued_at"]
    try:
        pair = ctx.tokens.refresh(token, client_id, scope)
    except RefreshRefused as exc:
        note.update(exc.notes)
        raise
    except OAuthError as exc:
        if outcome == "rotated":
            note["refresh_outcome"] = exc.error
        raise
    if record is not None and record.get("access_jti"):
        note["revoked_access_jti"] = record["access_jti"]
    issued = ctx.store.refresh_tokens.get(pair["refresh_token"])
    if issued is not None:
        note["issued_access_jti"] = issued["access_jti"]
    return pair


GRANTS: dict[str, Grant] = {
    "authorization_code": exchange_code,
    "refresh_token": refresh_grant,
    DEVICE_GRANT: exchange_device_code,
}


async def token(request: Request) -> Response:
    """``POST /oauth2/token``: every grant Askara documents, and nothing else."""
    ctx: MockContext = request.app.state.mock
    note = request.scope.setdefault("askara.note", {})
    params = await read_params(request)
    grant_type = require(params, "grant_type")
    note["grant_type"] = grant_type
    if "client_id" in params:
        note["client_id"] = params["client_id"]
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise OAuthError(
            "unsupported_grant_type",
            f'The grant type "{grant_type}" is not supported; use one of: {", ".join(GRANTS)}.',
        )
    client_id = authenticate_client(request, params)
    note["client_id"] = client_id
    return json_response(grant(ctx, params, client_id, note), headers=NO_STORE)


async def jwks(request: Request) -> Response:
    """The public key of the access tokens, so integrators can verify them (RFC 7517 key set).

    An assumption: league documents no JWKS endpoint, and its tokens carry no ``kid``.
    """
    rely(request.scope, "jwks-endpoint")
    return json_response({"keys": [request.app.state.mock.tokens.public_jwk()]})


def routes() -> list[BaseRoute]:
    return [
        Route("/authorize", authorize, methods=["GET", "POST"]),
        Route("/oauth2/token", token, methods=["POST"]),
        Route("/oauth2/device", device_authorization, methods=["POST"]),
        Route("/device", device_page, methods=["GET", "POST"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    ]
