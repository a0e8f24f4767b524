"""Reading OAuth2 request parameters and authenticating the client, as RFC 6749 asks.

Askara's guides send JSON to the token endpoint; RFC 6749 says form. Both are read here into one
``dict[str, str]`` so every grant sees the same thing. Empty values count as absent (RFC 6749
section 3.1) and a repeated form parameter is refused (section 3.2), as league/oauth2-server does.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import orjson
from starlette.requests import Request

from mock_server.core.errors import OAuthError
from mock_server.core.tokens import KNOWN_SCOPES, parse_scope
from mock_server.web.http import MAX_JSON_DEPTH, read_body, too_deep

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
ACCEPTED_TYPES = (JSON, FORM)

Params = dict[str, str]


def parse_form(raw: bytes) -> Params:
    """A urlencoded body as single-valued parameters; repeats and non-UTF-8 are ``invalid_request``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "The request body is not valid UTF-8.") from None
    params: Params = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "The form body is not valid urlencoded UTF-8.") from None
    for name, value in pairs:
        if name in params:
            raise OAuthError("invalid_request", f'The parameter "{name}" is included more than once.')
        params[name] = value
    return _drop_empty(params)


def parse_json(raw: bytes) -> Params:
    """A JSON object body whose values are strings (null counts as absent)."""
    if not raw.strip():
        raise OAuthError("invalid_request", "The request body is empty; a JSON object is expected.")
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise OAuthError("invalid_request", f"The request body is not valid JSON ({exc}).") from None
    if too_deep(raw, data):
        raise OAuthError("invalid_request", f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    if not isinstance(data, dict):
        raise OAuthError("invalid_request", "The request body must be a JSON object of string parameters.")
    params: Params = {}
    for name, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise OAuthError(
                "invalid_request", f'The parameter "{name}" must be a string; got {type(value).__name__} {value!r}.'
            )
        params[name] = value
    return _drop_empty(params)


def _drop_empty(params: Params) -> Params:
    return {name: value for name, value in params.items() if value != ""}


def content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_params(request: Request) -> Params:
    """The body parameters of a token or device request (JSON or form, size-capped)."""
    kind = content_type(request)
    if kind not in ACCEPTED_TYPES:
        raise OAuthError(
            "invalid_request",
            f'The content-type "{kind or "(none)"}" is not supported; send "{JSON}" or "{FORM}".',
        )
    raw = await read_body(request, request.app.state.mock.settings.max_body_bytes)
    return parse_json(raw) if kind == JSON else parse_form(raw)


def require(params: Params, name: str) -> str:
    """The parameter, or ``invalid_request`` naming it."""
    value = params.get(name)
    if value is None:
        raise OAuthError("invalid_request", f'The request is missing the required parameter "{name}".')
    return value


def validate_scopes(scope: str | None) -> list[str]:
    """Requested scopes, each known; none or an unknown one is ``invalid_scope``."""
    scopes = parse_scope(scope)
    if not scopes:
        raise OAuthError("invalid_scope", f"Specify a scope in the request; known scopes: {', '.join(KNOWN_SCOPES)}.")
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise OAuthError(
            "invalid_scope",
            f"The requested scope is invalid, unknown, or malformed: {' '.join(unknown)}. "
            f"Known scopes: {', '.join(KNOWN_SCOPES)}.",
        )
    return list(dict.fromkeys(scopes))


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """Client id and secret of an ``Authorization: Basic`` header (RFC 6749 section 2.3.1).

    Any other or malformed Authorization header is ignored, as league/oauth2-server does: an
    HTTP client that sends its old ``Bearer`` header to the token endpoint works in production.
    """
    header = request.headers.get("authorization", "")
    kind, _, value = header.partition(" ")
    if kind.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def identify_client(request: Request, params: Params) -> str:
    """The client named by ``client_id`` (body, else the Basic user), not authenticated.

    league's device authorization request checks only that the client exists
    (``getClientEntityOrFail``); its secret is checked when the device polls the token endpoint.
    """
    basic = _basic_credentials(request)
    client_id = params.get("client_id") or (basic[0] if basic else None)
    if client_id is None:
        raise OAuthError("invalid_request", 'The request is missing the required parameter "client_id".')
    if client_id != request.app.state.mock.settings.client_id:
        raise OAuthError("invalid_client", f'Client authentication failed: unknown client "{client_id}".', status=401)
    return client_id


def authenticate_client(request: Request, params: Params) -> str:
    """The authenticated client id, from the body or else from HTTP Basic.

    Body parameters win over Basic, field by field, as in league/oauth2-server. The one
    registered client is confidential (Askara hands every integrator a secret), so a request
    without its secret is refused with ``invalid_client``, as RFC 6749 section 5.2 says.
    """
    ctx = request.app.state.mock
    basic = _basic_credentials(request)
    client_id = params.get("client_id") or (basic[0] if basic else None)
    secret = params.get("client_secret") or (basic[1] if basic else "")
    if client_id is None:
        hint = ""
        if request.headers.get("authorization"):
            hint = " (the Authorization header is not valid HTTP Basic client credentials)"
        raise OAuthError("invalid_request", f'The request is missing the required parameter "client_id"{hint}.')
    if basic and "client_secret" not in params and basic[0] != client_id:
        raise OAuthError(
            "invalid_client", "Client authentication failed: client_id differs from the Basic credentials.", status=401
        )
    if client_id != ctx.settings.client_id:
        raise OAuthError("invalid_client", f'Client authentication failed: unknown client "{client_id}".', status=401)
    if not secret:
        raise OAuthError(
            "invalid_client", "Client authentication failed: the client secret is missing (client_secret).", status=401
        )
    if not secrets.compare_digest(secret.encode(), str(ctx.client_secret).encode()):
        raise OAuthError("invalid_client", "Client authentication failed: wrong client secret.", status=401)
    return client_id
