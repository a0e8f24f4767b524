"""The ``/_mock`` control API: what the CLI, the harness and the web page drive the mock with.

No authentication, no rate limit, no journal (the middleware lets ``/_mock`` through untouched):
it is the test bench, not the product. Bodies are still validated against ``schemas/`` and bad
ones get the same problem documents as the public API.

* :mod:`.views`: read-only calls (credentials, clock, status reports, journal, events, records).
* :mod:`.actions`: calls that change things (documents, Synchronize, notes, clock, reset).
* :mod:`.faults`: arm, list and disarm faults.
* :mod:`.deliveries`: the sender's deliveries, failure queue, redelivery and hand-made sends.
* :mod:`.assumptions`: which of the mock's guesses about Askara answers rested on.
* :mod:`.transcript`: the HAR transcript and the control-action feed (:mod:`.feed` keeps it).
* :mod:`.snapshot`: the whole state as one document, and loading one.
* :mod:`.settle`: wait until every due delivery was attempted (and, asked, drive the clock to each retry).
* :mod:`.timeline`: each delivery beside what the integration did next, with a plain-words verdict.
* :mod:`.stream`: server-sent events telling the web page that something changed.
* :mod:`.ui`: the web page at ``/_mock/ui`` and its script and style.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from mock_server.control import (
    actions,
    assumptions,
    deliveries,
    faults,
    settle,
    snapshot,
    stream,
    timeline,
    transcript,
    ui,
    views,
)


def routes() -> list[BaseRoute]:
    return [
        *views.routes(),
        *actions.routes(),
        *faults.routes(),
        *deliveries.routes(),
        *assumptions.routes(),
        *transcript.routes(),
        *snapshot.routes(),
        *settle.routes(),
        *timeline.routes(),
        *stream.routes(),
        *ui.routes(),
    ]
