"""The support engineer's page, ``/_mock/ui``: one self-contained HTML file, no CDN.

The page is static; its script reads the control API (documents, deliveries, failures, status
reports, clock) and posts the Validate / Synchronize / Redeliver buttons to it. Keeping it a
plain file shipped in this package means no template engine and nothing to build.
"""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mock_server.core.packaged import read_text


@functools.cache
def _page() -> str:
    return read_text("mock_server.control", "ui.html")


def routes() -> list[BaseRoute]:
    return [
        Route("/_mock/ui", page, methods=["GET"]),
        Route("/_mock", to_page, methods=["GET"]),
    ]


async def page(request: Request) -> Response:
    return HTMLResponse(_page(), headers={"Cache-Control": "no-store"})


async def to_page(request: Request) -> Response:
    return RedirectResponse("/_mock/ui", status_code=307)
