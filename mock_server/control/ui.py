"""The support engineer's page, ``/_mock/ui``: static files shipped in this package, no CDN, no build.

``ui.html`` is the page; ``ui.css``, ``ui.js`` (the lists, the buttons, live updates over
``/_mock/stream``) and ``ui_timeline.js`` (the delivery timeline of ``/_mock/timeline``, edit and
resend) are served beside it as ``/_mock/ui/<name>``. Keeping them plain files read through
``importlib.resources`` means no template engine and nothing to build; the wheel carries them
(``[tool.setuptools.package-data]``).
"""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mock_server.core.errors import NotFound
from mock_server.core.packaged import read_text

ASSETS = {
    "ui.css": "text/css; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
    "ui_timeline.js": "text/javascript; charset=utf-8",
}


@functools.cache
def _file(name: str) -> str:
    return read_text("mock_server.control", name)


def routes() -> list[BaseRoute]:
    return [
        Route("/_mock/ui", page, methods=["GET"]),
        Route("/_mock/ui/{name}", asset, methods=["GET"]),
        Route("/_mock", to_page, methods=["GET"]),
    ]


async def page(request: Request) -> Response:
    return HTMLResponse(_file("ui.html"), headers={"Cache-Control": "no-store"})


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        raise NotFound(f'The web page has no file "{name:.60}" (it has {", ".join(ASSETS)}).')
    return Response(_file(name), media_type=ASSETS[name], headers={"Cache-Control": "no-store"})


async def to_page(request: Request) -> Response:
    return RedirectResponse("/_mock/ui", status_code=307)
