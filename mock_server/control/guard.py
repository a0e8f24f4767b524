"""The control API's guard: bound beyond loopback, every ``/_mock`` route asks for the control token.

On loopback the control API is open, as a developer's tool is. Bound to another interface
(``--host 0.0.0.0``), whoever reaches the port could read the credentials, reset the state, inject
faults or move the clock; so a token is required (``--control-token``, else a random one the banner
prints), and also on loopback when one is given. It goes in ``Authorization: Bearer <token>``; the
web page, which a browser opens by URL, takes it once as ``/_mock/ui?token=<token>``, which sets an
``HttpOnly``, ``SameSite=Strict`` cookie its own calls then carry. Anything else: 401 problem+json.
"""

from __future__ import annotations

import hmac
import secrets
from http.cookies import SimpleCookie

from starlette.datastructures import URL, Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.core.errors import ProblemError
from mock_server.core.settings import Settings
from mock_server.web.http import problem_response

COOKIE = "askara_mock_control"
UI_PATH = "/_mock/ui"
ENV_VAR = "ASKARA_MOCK_CONTROL_TOKEN"
"""Where the CLI's client commands and the harness read the token from when not given as an option."""


def with_control_token(settings: Settings) -> Settings:
    """``settings`` with the token the guard will ask for: the one given, a fresh one beyond loopback, or none."""
    if settings.control_token is None and not settings.loopback:
        return settings.replace(control_token=secrets.token_urlsafe(24))
    return settings


class ControlTokenRequired(ProblemError):
    status = 401
    title = "Unauthorized"


class ControlGuard:
    """ASGI middleware refusing ``/_mock`` requests without the token (see the module docstring)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/_mock" or path.startswith("/_mock/")):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self._granted(headers):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        given = request.query_params.get("token")
        if path == UI_PATH and given is not None and self._matches(given):
            # The page's address keeps no token: the cookie carries it from here on.
            response = RedirectResponse(str(URL(scope=scope).remove_query_params("token")), 303)
            response.set_cookie(COOKIE, given, httponly=True, samesite="strict", path="/_mock",
                                secure=scope.get("scheme") == "https")
            await response(scope, receive, send)
            return
        error = ControlTokenRequired(
            "The control API asks for its token when the mock is bound beyond loopback: send "
            "Authorization: Bearer <control token> (printed in the banner, or serve --control-token; "
            f"the CLI and the harness read {ENV_VAR}), or open {UI_PATH}?token=<control token>.",
            headers={"WWW-Authenticate": 'Bearer realm="askara-mock control"'},
        )
        await problem_response(request, error)(scope, receive, send)

    def _granted(self, headers: Headers) -> bool:
        authorization = headers.get("authorization", "")
        if authorization.startswith("Bearer ") and self._matches(authorization[7:]):
            return True
        cookie = SimpleCookie(headers.get("cookie", ""))
        return COOKIE in cookie and self._matches(cookie[COOKIE].value)

    def _matches(self, given: str) -> bool:
        return hmac.compare_digest(given.strip().encode(), self.token)
