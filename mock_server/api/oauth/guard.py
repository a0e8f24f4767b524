"""Bearer-token and scope checks for the public API."""

from __future__ import annotations

from starlette.requests import Request

from mock_server.core.errors import Forbidden, Unauthorized
from mock_server.core.tokens import AccessToken


def authenticate(request: Request, scope: str | None = None) -> AccessToken:
    """The verified token of ``request``; 401 when missing, bad or expired, 403 without ``scope``."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("Full authentication is required: send 'Authorization: Bearer <access_token>'.", error="")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <access_token>'.", error="invalid_request")
    info: AccessToken = request.app.state.mock.tokens.verify_access(token.strip())
    request.scope.setdefault("askara.note", {})["client_id"] = info.client_id
    request.scope["askara.note"]["token_jti"] = info.jti
    if scope is not None and scope not in info.scopes:
        raise Forbidden(f'The access token lacks the scope "{scope}" this endpoint requires.', scope=scope)
    return info
