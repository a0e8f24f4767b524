"""``GET /_mock/assumptions``: which of the mock's guesses about Askara the answers so far rested on.

Every public answer that rested on an assumption (see :mod:`mock_server.core.assumptions`) counts
here, with the first request that did (its journal id, method, path and mock time), so a support
engineer sees at a glance what an integration would need to verify in Askara's staging.
``?all=true`` lists every registered assumption, relied on or not. ``POST /_mock/reset`` clears
the counts.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.control.common import context, query_bool
from mock_server.core.assumptions import Assumption, Usage, all_assumptions
from mock_server.core.timefmt import iso
from mock_server.web.http import json_response


def routes() -> list[BaseRoute]:
    return [Route("/_mock/assumptions", assumptions, methods=["GET"])]


async def assumptions(request: Request) -> Response:
    """The assumptions relied on since start, first relied on first; every one with ``?all=true``."""
    ctx = context(request)
    everything = query_bool(request, "all") or False
    usage = ctx.assumption_usage.by_id
    registry = all_assumptions()
    if everything:
        chosen = list(registry.values())
    else:
        chosen = [registry[i] for i in sorted(usage, key=lambda i: usage[i].first.journal_id) if i in registry]
    documented_only = ctx.settings.documented_only
    return json_response([_describe(entry, usage.get(entry.id), documented_only) for entry in chosen])


def _describe(entry: Assumption, usage: Usage | None, documented_only: bool) -> dict[str, Any]:
    first = None
    if usage is not None:
        first = {
            "journal_id": usage.first.journal_id,
            "method": usage.first.method,
            "path": usage.first.path,
            "at": usage.first.at,
            "iso": iso(usage.first.at),
        }
    return {
        **entry.describe(),
        "count": usage.count if usage else 0,
        "first": first,
        "served": not (documented_only and entry.invented),
    }
