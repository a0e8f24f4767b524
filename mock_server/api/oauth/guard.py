"""Bearer-token and scope checks for the public API, as league's Symfony bundle makes them.

The bundle's authenticator takes a request only when ``Authorization`` starts with exactly
``Bearer `` (case-sensitive); anything else (no header, ``bearer x``, ``Basic …``) falls to its
entry point. Every refusal leaves ``auth_outcome`` (and the token's facts) in the journal notes.
"""

from __future__ import annotations

from starlette.requests import Request

from mock_server.core.errors import Forbidden
from mock_server.core.token_refusals import NoBearerCredentials, TokenRefused
from mock_server.core.tokens import AccessToken

BEARER = "Bearer "


def authenticate(request: Request, scope: str | None = None) -> AccessToken:
    """The verified token of ``request``; 401 when missing, bad or expired, 403 without ``scope``."""
    note = request.scope.setdefault("askara.note", {})
    header = request.headers.get("authorization")
    try:
        if not header:
            raise NoBearerCredentials(
                "Full authentication is required: send 'Authorization: Bearer <access_token>'.",
                outcome="missing",
                error="",
            )
        if not header.startswith(BEARER):
            scheme = header.split(" ", 1)[0]
            raise NoBearerCredentials(
                "The Authorization header must start with exactly 'Bearer ' (case-sensitive); "
                f"the scheme sent is '{scheme[:20]}'.",
                outcome="not_bearer",
                error="invalid_request",
            )
        token = header[len(BEARER) :].strip()
        if not token:
            raise TokenRefused("The Authorization header carries no token after 'Bearer '.", outcome="invalid")
        info: AccessToken = request.app.state.mock.tokens.verify_access(token)
    except TokenRefused as refused:
        note.update(refused.notes())
        raise
    note["client_id"] = info.client_id
    note["token_jti"] = info.jti
    if scope is not None and scope not in info.scopes:
        note["auth_outcome"] = "insufficient_scope"
        raise Forbidden(f'The access token lacks the scope "{scope}" this endpoint requires.', scope=scope)
    return info
