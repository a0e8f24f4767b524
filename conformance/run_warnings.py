"""What a run warns about without failing: the mock's guesses the integration leaned on, and flagged webhooks.

An integration that passes against the mock may still lean on something Askara does not
document (an operation, a field, a status code the mock chose). The mock names those in each
journal entry (``assumptions``); this module gathers the integration's entries (not the harness's
own requests, which carry :data:`HARNESS_USER_AGENT`), groups them by assumption with the requests
as evidence, and adds each assumption's text and what to verify from ``GET /_mock/assumptions``.
Webhooks whose URL the mock flagged (plain http off loopback) come from ``GET /_mock/webhooks``.
Everything here is read over HTTP; none of it changes a check or the exit status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.mockclient import MockClient, MockError
from conformance.observation import HARNESS_USER_AGENT

EVIDENCE_LIMIT = 20
"""Requests kept as evidence per assumption (the count says how many there were)."""


@dataclass
class ReliedAssumption:
    id: str
    count: int
    """How many of the integration's requests were answered resting on it."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    """The first :data:`EVIDENCE_LIMIT` of them: journal id, method, path, status."""
    text: str = ""
    source: str = ""
    leniency: str = ""
    verify: str = ""
    docs: str = ""


@dataclass
class WebhookWarning:
    uuid: str
    url: str
    active: bool
    warnings: list[str]


@dataclass
class RunWarnings:
    assumptions: list[ReliedAssumption] = field(default_factory=list)
    webhooks: list[WebhookWarning] = field(default_factory=list)


def journal_cursor(mock: MockClient) -> int:
    """The last journal id before the run, so only the run's requests are judged (``--mock-url``)."""
    return max((int(e.get("id", 0)) for e in mock.journal()), default=0)


def gather(mock: MockClient, since: int = 0) -> RunWarnings:
    """The integration's relied-on assumptions since journal id ``since``, and the flagged webhooks."""
    relied: dict[str, ReliedAssumption] = {}
    for entry in mock.journal(since=since):
        if str(entry.get("user_agent", "")).startswith(HARNESS_USER_AGENT):
            continue
        for assumption_id in entry.get("assumptions") or []:
            item = relied.setdefault(str(assumption_id), ReliedAssumption(str(assumption_id), 0))
            item.count += 1
            if len(item.requests) < EVIDENCE_LIMIT:
                item.requests.append(
                    {"journal_id": entry.get("id"), **{k: entry.get(k) for k in ("method", "path", "status")}}
                )
    try:
        registry = {str(a["id"]): a for a in mock.list_of("/_mock/assumptions", all="true")}
    except MockError:  # a mock from before the registry: the ids alone still say what to look at
        registry = {}
    for item in relied.values():
        known = registry.get(item.id, {})
        item.text, item.source = str(known.get("text", "")), str(known.get("source", ""))
        item.leniency, item.verify = str(known.get("leniency", "")), str(known.get("verify", ""))
        item.docs = str(known.get("docs", ""))
    webhooks = [
        WebhookWarning(str(w.get("uuid")), str(w.get("url")), bool(w.get("active")), list(w["warnings"]))
        for w in mock.list_of("/_mock/webhooks")
        if w.get("warnings")
    ]
    return RunWarnings(list(relied.values()), webhooks)
