"""The exception handlers: every error the app raises becomes one problem document (or OAuth error)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mock_server.core.errors import MethodNotAllowed, NotFound, OAuthError, ProblemError
from mock_server.web.http import json_response, problem_response
from mock_server.web.routing import allowed_methods, has_malformed_uuid

logger = logging.getLogger("askara_mock")


def exception_handlers() -> dict[type[Exception], object]:
    return {
        ProblemError: _problem_handler,
        OAuthError: _oauth_handler,
        HTTPException: _http_exception_handler,
        Exception: _unexpected_handler,
    }


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(request, exc)


async def _oauth_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="askara"'
    return json_response(
        {"error": exc.error, "error_description": exc.description, "message": exc.description},
        exc.status,
        headers=headers,
    )


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
    error = ProblemError(str(exc.detail), headers=dict(exc.headers or {}))
    error.status = exc.status_code
    error.title = "Error"
    return problem_response(request, error)


async def _unexpected_handler(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    error = ProblemError(f"Internal error in askara-mock ({type(exc).__name__}: {exc}); this is a mock bug.")
    return problem_response(request, error)
