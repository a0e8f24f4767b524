"""``create_app(settings)``: the one way to build a mock. Nothing here runs at import time."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from mock_server import control, faults, files, openapi
from mock_server.context import MockContext
from mock_server.errors import MethodNotAllowed, NotFound, OAuthError, ProblemError
from mock_server.http import json_response, problem_response
from mock_server.middleware import ApiMiddleware
from mock_server.oauth import endpoints as oauth_endpoints
from mock_server.resources import documents, me, notes, patients, webhooks
from mock_server.seed import seed_store
from mock_server.settings import Settings
from mock_server.webhooks import routes as webhook_routes
from mock_server.webhooks.install import install as install_webhooks

logger = logging.getLogger("askara_mock")


def build_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for module in (
        oauth_endpoints, me, patients, documents, notes, webhooks, files, openapi, control, faults, webhook_routes
    ):
        routes.extend(module.routes())
    return routes


def create_app(settings: Settings | None = None) -> Starlette:
    """A fully wired mock: seeded store, clock, tokens, rate limit, journal, control API."""
    settings = settings or Settings()
    context = MockContext(settings)
    if not context.store.restored:
        seed_store(context)
    for install in context_installers():
        install(context)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await context.timers.start()
        for hook in context.extensions.get("startup", []):
            await hook()
        try:
            yield
        finally:
            for hook in context.extensions.get("shutdown", []):
                await hook()
            await context.timers.stop()
            context.store.close()

    app = Starlette(
        routes=build_routes(),
        lifespan=lifespan,
        exception_handlers={
            ProblemError: _problem_handler,
            OAuthError: _oauth_handler,
            HTTPException: _http_exception_handler,
            Exception: _unexpected_handler,
        },
    )
    app.state.mock = context
    app.add_middleware(ApiMiddleware, context=context)
    return app


def context_installers() -> list[Callable[[MockContext], None]]:
    """Parts that attach themselves to a new context: API faults, then the webhook sender."""
    return [faults.install, install_webhooks]


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
    if exc.status_code == 404:
        return problem_response(request, NotFound(f'No route found for "{request.method} {request.url.path}".'))
    if exc.status_code == 405:
        allow = _allowed_methods(request) or (exc.headers or {}).get("Allow")
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


def _allowed_methods(request: Request) -> str:
    """Every method routed at this path: Starlette's own ``Allow`` names only the first route's (one per method)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


async def _unexpected_handler(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    error = ProblemError(f"Internal error in askara-mock ({type(exc).__name__}: {exc}); this is a mock bug.")
    return problem_response(request, error)
