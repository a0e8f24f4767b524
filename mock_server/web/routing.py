"""Symfony's routing rules in front of Starlette's router: trailing slashes, uuid requirements, 405, 406.

* A trailing slash (``GET /documents/``) is redirected 301 to the canonical path, query kept, only
  for GET and HEAD (Symfony's ``RedirectableUrlMatcher``); any other method on such a path is a
  404, never a 307 a client would follow with its body. Starlette's own ``redirect_slashes`` (307
  for every method, and adding slashes too) must be off: ``create_app`` turns it off.
* Path uuids are 8-4-4-4-12 hexadecimal digits with dashes, any case (Symfony Uid's
  ``Uuid::isValid``); braces, ``urn:uuid:`` or missing dashes do not match the route: 404, also
  when the method is wrong (a route requirement fails before the method is looked at).
* An ``Accept`` header the API cannot answer is a 406, decided after routing (404/405 first) and
  before authentication, in the order of Symfony's kernel listeners; a malformed uuid's 404 also
  comes before 401/403.
* :class:`ExplainedRefusal` routes a method the mock refuses on purpose (``POST /me``) to a 405
  that says why; it never counts as an allowed method.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.core.errors import MethodNotAllowed, NotAcceptable, NotFound, ProblemError
from mock_server.web.http import problem_response
from mock_server.web.middleware import classify
from mock_server.web.negotiation import negotiate, not_acceptable_detail

UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = re.compile(UUID_PATTERN)
UUID_PARAMS = ("uuid",)
"""Path parameters that carry a resource uuid (the route requirement applies to them)."""
NO_REDIRECT_PREFIXES = ("/files/",)
"""Object storage answers a trailing slash as another key; it never redirects."""


def canonical_uuid(raw: str) -> str | None:
    """The lower-case form of a uuid in 8-4-4-4-12 form, or None for anything else."""
    return raw.lower() if _UUID.fullmatch(raw) else None


def has_malformed_uuid(path_params: Mapping[str, Any]) -> bool:
    """A uuid path parameter that Symfony's route requirement would not match."""
    return any(isinstance(path_params.get(name), str) and canonical_uuid(path_params[name]) is None
               for name in UUID_PARAMS if name in path_params)  # fmt: skip


class ExplainedRefusal(Route):
    """A method refused on purpose with a 405 that explains why, e.g. ``POST /me``."""

    def __init__(self, path: str, method: str, reason: str) -> None:
        async def refuse(request: Request) -> Response:
            allow = allowed_methods(request)
            request.scope.setdefault("askara.note", {})["refused"] = "method"
            raise MethodNotAllowed(
                f'No route found for "{method} {path}": Method Not Allowed (Allow: {allow}). {reason}',
                headers={"Allow": allow},
            )

        super().__init__(path, refuse, methods=[method])


def allowed_methods(request: Request) -> str:
    """Every method routed at this path, as Symfony lists a route's declared methods: HEAD is implied by
    GET (Starlette adds it to every GET route) and not named (Starlette's own ``Allow`` names only the
    first route's methods)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, ExplainedRefusal) or not isinstance(route, Route) or not route.methods:
            continue
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    if "GET" in methods:
        methods.discard("HEAD")
    return ", ".join(sorted(methods))


def _match(routes: list[BaseRoute], scope: Scope) -> tuple[Match, dict[str, Any]]:
    """The best match of ``scope`` among ``routes`` (FULL before PARTIAL), with its path parameters."""
    partial: dict[str, Any] | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return match, child.get("path_params", {})
        if match is Match.PARTIAL and partial is None:
            partial = child.get("path_params", {})
    return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, {})


class SymfonyRouting:
    """Raw ASGI, inside the journal/rate-limit layer: trailing slashes and 406, as Symfony answers them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path != "/" and path.endswith("/") and not path.startswith(NO_REDIRECT_PREFIXES):
            if await self._redirect(scope, receive, send, path):
                return
        elif classify(path) == "api":
            accept = _header(scope, b"accept")
            refused = accept is not None and negotiate(accept) is None
            if refused or path.count("/") >= 2:  # a collection path has no uuid to check: skip the scan
                match, params = _match(scope["app"].router.routes, scope)
                if match is not Match.NONE and has_malformed_uuid(params):
                    await self._reply(scope, receive, send, NotFound(
                        f'No route found for "{scope["method"]} {path}": the identifier is not a valid UUID '
                        "(8-4-4-4-12 hexadecimal digits with dashes; no braces, no urn:uuid: prefix)."), "route")
                    return
                if refused and match is Match.FULL:
                    await self._reply(scope, receive, send, NotAcceptable(not_acceptable_detail(accept or "")), None)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _reply(scope: Scope, receive: Receive, send: Send, error: ProblemError, refused: str | None) -> None:
        """Answer before the app: Symfony's router and format listener run before the firewall (401/403)."""
        if refused:
            scope.setdefault("askara.note", {})["refused"] = refused
        await problem_response(Request(scope, receive), error)(scope, receive, send)

    async def _redirect(self, scope: Scope, receive: Receive, send: Send, path: str) -> bool:
        """301 to the path without its trailing slash(es) when a GET/HEAD there would be routed."""
        if scope["method"] not in ("GET", "HEAD"):
            return False  # the router finds no route: 404
        canonical = path.rstrip("/") or "/"
        target = {**scope, "path": canonical, "raw_path": canonical.encode()}
        match, params = _match(scope["app"].router.routes, target)
        if match is not Match.FULL or has_malformed_uuid(params):
            return False
        url = URL(scope=target)
        response = Response(status_code=301, headers={"Location": str(url)})
        await response(scope, receive, send)
        return True


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
