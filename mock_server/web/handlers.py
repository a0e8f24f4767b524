"""The exception handlers: every error the app raises becomes one problem document (or OAuth error).

Except the bearer-token refusals (401, 403): those keep the form of league's Symfony bundle,
which production answers with, so that no integration learns to parse a body Askara never sends.
The bundle's entry point (no ``Bearer`` credentials) answers an empty body; a failed
authentication (bad, expired, revoked token) and a missing scope a short plain-text message. The
mock's explanation goes to the ``X-Askara-Mock-Explanation`` header and the request's journal.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mock_server.core.errors import Forbidden, MethodNotAllowed, NotFound, OAuthError, ProblemError, Unauthorized
from mock_server.core.token_refusals import NoBearerCredentials
from mock_server.web.http import json_response, problem_response
from mock_server.web.routing import allowed_methods, has_malformed_uuid

logger = logging.getLogger("askara_mock")

EXPLANATION_HEADER = "X-Askara-Mock-Explanation"
FAILED_AUTHENTICATION = "The resource server rejected the request."
"""The bundle's message for any token league's resource server refuses."""
INSUFFICIENT_SCOPES = "The token has insufficient scopes."
PLAIN_TEXT = "text/plain; charset=UTF-8"


def exception_handlers() -> dict[type[Exception], object]:
    return {
        ProblemError: _problem_handler,
        OAuthError: _oauth_handler,
        HTTPException: _http_exception_handler,
        Exception: _unexpected_handler,
    }


def explain(request: Request, explanation: str, headers: dict[str, str]) -> None:
    """Tell the developer what the mock saw: a response header and a note on the journal entry."""
    request.scope.setdefault("askara.note", {})["explanation"] = explanation
    headers[EXPLANATION_HEADER] = header_safe(explanation)


def header_safe(text: str, limit: int = 1000) -> str:
    """``text`` as one latin-1 header line: control characters become spaces, the rest is kept or '?'."""
    line = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)[:limit]
    return line.encode("latin-1", "replace").decode("latin-1")


def bearer_refusal(request: Request, error: Unauthorized | Forbidden) -> Response:
    """A 401 or 403 as league's bundle answers it, with the mock's explanation beside it."""
    if isinstance(error, Forbidden):
        body = INSUFFICIENT_SCOPES
    elif isinstance(error, NoBearerCredentials):
        body = ""
    else:
        body = FAILED_AUTHENTICATION
    headers = {name: header_safe(value) for name, value in error.headers.items()}
    explain(request, error.detail, headers)
    return Response(body, error.status, headers=headers, media_type=PLAIN_TEXT)


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    if isinstance(exc, Unauthorized | Forbidden):
        return bearer_refusal(request, exc)
    return problem_response(request, exc)


async def _oauth_handler(request: Request, exc: Exception) -> Response:
    """league's error body: ``error``, ``error_description``, ``hint`` when it has one, ``message``."""
    assert isinstance(exc, OAuthError)
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="askara"'
    body = {"error": exc.error, "error_description": exc.description}
    hint = getattr(exc, "hint", None)
    if hint:
        body["hint"] = hint
    body["message"] = exc.description
    # The journal keeps the OAuth error and what it said, so the harness can name why a refresh was refused.
    request.scope.setdefault("askara.note", {}).update({"oauth_error": exc.error, "problem": exc.description[:300]})
    explanation = getattr(exc, "explanation", None)
    if explanation:
        explain(request, explanation, headers)
    return json_response(body, exc.status, headers=headers)


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    no_route = NotFound(f'No route found for "{request.method} {request.url.path}".')
    if exc.status_code == 404 or (exc.status_code == 405 and has_malformed_uuid(request.path_params)):
        # A malformed uuid fails the route's requirement before the method is looked at (Symfony).
        request.scope.setdefault("askara.note", {})["refused"] = "route"
        return problem_response(request, no_route)
    if exc.status_code == 405:
        request.scope.setdefault("askara.note", {})["refused"] = "method"
        allow = allowed_methods(request) or (exc.headers or {}).get("Allow")
        error = MethodNotAllowed(
            f'No route found for "{request.method} {request.url.path}": Method Not Allowed'
            + (f" (Allow: {allow})." if allow else ".")
        )
        error.headers.update(exc.headers or {})
        if allow:
            error.headers["Allow"] = allow
        return problem_response(request, error)
    other = ProblemError(str(exc.detail), headers=dict(exc.headers or {}))
    other.status = exc.status_code
    other.title = "Error"
    return problem_response(request, other)


async def _unexpected_handler(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    error = ProblemError(f"Internal error in askara-mock ({type(exc).__name__}: {exc}); this is a mock bug.")
    return problem_response(request, error)
