"""Scenario steps for what production does and a local run rarely shows: documents that exist but
were never announced, events about them, and (with ``--start``) a restart of the integration.

Registered with the ``@step`` decorator of :mod:`conformance.steps`; importing this module adds them.
"""

from __future__ import annotations

import time
from typing import Any

from conformance.mockclient import MockClient
from conformance.steps import StepError, StepRuntime, _remember, send, step


def unannounced_documents(
    mock: MockClient, webhook_id: str | None, bodies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Real, verified documents (their PDF links work, status reports on them are accepted) whose
    ``new_document`` went to no webhook; each as the event payload's ``metadata.document``."""
    documents = []
    with mock.webhook_paused(webhook_id):
        for body in bodies:
            documents.append(dict(mock.post("/_mock/documents", {**body, "validate": True})["document"]))
    return documents


@step("unannounced")
def unannounced(runtime: StepRuntime, args: dict[str, Any]) -> None:
    documents = unannounced_documents(runtime.mock, runtime.webhook_id, [{}] * int(args.get("count", 1)))
    runtime.observation.unannounced.update({d["uuid"]: d for d in documents})
    _remember(runtime, args["as"], [d["uuid"] for d in documents])


@step("send_about")
def send_about(runtime: StepRuntime, args: dict[str, Any]) -> None:
    """One delivery with an ``action`` event about each named document, its payload the real document."""
    if runtime.webhook_id is None:
        raise StepError("send_about needs the integration's webhook (webhook mode)")
    events = []
    for uuid in runtime.refs(args["document"]):
        document = runtime.observation.unannounced.get(uuid)
        if document is None:
            raise StepError(f"send_about: {uuid} is not a document an 'unannounced' step made")
        events.append(
            {
                "id": uuid,
                "resource_type": "document",
                "action": args["action"],
                "metadata": {"document": document},
                "resource_metadata": {"user_id": "1", "organization_id": "1"},
            }
        )
    send(runtime, {"events": events, "as": args.get("as")})


@step("restart")
def restart(runtime: StepRuntime, args: dict[str, Any]) -> None:
    """Stop the integration (SIGTERM; SIGKILL after ``grace`` seconds) and start it again, as a deploy does."""
    if runtime.restart_target is None:
        raise StepError("restart needs an integration the harness started (--start)")
    runtime.restart_target(float(args.get("grace", 3.0)))
    runtime.observation.restarts.append(time.time())
