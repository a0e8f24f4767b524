"""The ``/_mock`` control API: what the CLI, the harness and the web page drive the mock with.

No authentication, no rate limit, no journal (the middleware lets ``/_mock`` through untouched):
it is the test bench, not the product. Bodies are still validated against ``schemas/`` and bad
ones get the same problem documents as the public API.

* :mod:`.views`: read-only calls (credentials, clock, status reports, journal, events, records).
* :mod:`.actions`: calls that change things (documents, Synchronize, notes, clock, reset).
* :mod:`mock_server.ui`: the web page at ``/_mock/ui``.

The sender's routes (``/_mock/deliveries``, ``/_mock/failures``) live in ``mock_server.webhooks``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from mock_server import ui
from mock_server.control import actions, views


def routes() -> list[BaseRoute]:
    return [*views.routes(), *actions.routes(), *ui.routes()]
