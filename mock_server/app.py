"""``create_app(settings)``: the one way to build a mock. Nothing here runs at import time."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from mock_server import control
from mock_server.api import audios, documented, documents, me, notes, patients, webhooks
from mock_server.api.oauth import endpoints as oauth_endpoints
from mock_server.control.feed import ActionFeed
from mock_server.control.guard import ControlGuard, with_control_token
from mock_server.core.assumptions import invented_operations
from mock_server.core.context import CLOSING_STATE, MockContext
from mock_server.core.settings import Settings
from mock_server.core.snapshot import remember_start
from mock_server.domain.seed import seed_store
from mock_server.faults.api import install as install_faults
from mock_server.files.origin import FilesOrigin
from mock_server.sender.install import install as install_sender
from mock_server.web import openapi
from mock_server.web.filters import CollectionSpec
from mock_server.web.handlers import exception_handlers
from mock_server.web.middleware import ApiMiddleware
from mock_server.web.routing import SymfonyRouting


def build_routes(settings: Settings) -> list[BaseRoute]:
    """Every route; with ``settings.documented_only``, not those of operations Askara does not document
    (``invented`` assumptions), which then answer as any unknown route does (404, or 405 with
    ``Allow`` when the path serves other methods)."""
    routes: list[BaseRoute] = []
    routes.extend(oauth_endpoints.routes())
    routes.extend(me.routes(settings))
    for module in (patients, documents, notes, audios, webhooks, openapi, control):
        routes.extend(module.routes())
    if settings.documented_only:
        invented = invented_operations()
        routes = [route for route in routes if not _invented(route, invented)]
    return routes


def _invented(route: BaseRoute, invented: set[tuple[str, str]]) -> bool:
    methods = (route.methods or set()) - {"HEAD"} if isinstance(route, Route) else set()
    return bool(methods) and all((method, route.path) in invented for method in methods)  # type: ignore[attr-defined]


def create_app(settings: Settings | None = None) -> Starlette:
    """A fully wired mock: seeded store, clock, tokens, rate limit, journal, control API."""
    settings = with_control_token(settings or Settings())
    context = MockContext(settings)
    if not context.store.restored:
        seed_store(context)
    for install in context_installers():
        install(context)
    webhooks.register_start_webhooks(context)
    context.reset_hooks.append(functools.partial(webhooks.register_start_webhooks, context))
    context.reset_hooks.append(functools.partial(remember_start, context))  # after the webhooks: part of the start
    context.check_wired()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        await context.timers.start()
        context.changes.reopen()
        for hook in context.startup_hooks:
            await hook()
        if context.story_start is None:  # a `serve --load` hook may have taken it already
            remember_start(context)
        try:
            # The server's connections find it here and call it as the server stops (web/connections.py).
            yield {CLOSING_STATE: context.closing}
        finally:
            context.closing()
            for hook in context.shutdown_hooks:
                await hook()
            await context.timers.stop()
            context.store.close()

    app = Starlette(routes=build_routes(settings), lifespan=lifespan, exception_handlers=exception_handlers())  # type: ignore[arg-type]
    app.router.redirect_slashes = False  # Symfony's rules instead: SymfonyRouting (301 for GET/HEAD only)
    app.state.mock = context
    app.state.collection_specs = collection_specs()
    app.add_middleware(SymfonyRouting)  # inside the journal and the rate limit, as Askara's kernel is
    if settings.control_token is not None:  # inside the journal (refusals are journaled), the files origin's own
        app.add_middleware(ControlGuard, token=settings.control_token)
    # The files origin (pre-signed PDF links) is answered inside the journal, before the API's routing.
    app.add_middleware(FilesOrigin, context=context)
    app.add_middleware(ActionFeed, context=context)  # control calls that change something, for `record`
    app.add_middleware(ApiMiddleware, context=context)
    return app


def collection_specs() -> dict[str, CollectionSpec]:
    """Each list's spec by path, for /openapi.json to describe exactly what it accepts."""
    return {module.SPEC.path: module.SPEC for module in (patients, documents, notes, audios, webhooks)}


def context_installers() -> list[Callable[[MockContext], None]]:
    """Parts that attach themselves to a new context: API faults, the webhook sender, documented-only payloads,
    the sorted views of the lists (built before the first request, not inside it)."""
    return [install_faults, install_sender, documented.install,
            documents.warm_views, notes.warm_views, patients.warm_views]  # fmt: skip
