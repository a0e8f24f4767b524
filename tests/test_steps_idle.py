"""The harness's ``wait: {until: idle}`` decides from the journal's cursor, not its length: a bounded
journal under a flood stays at its limit while its ids keep growing, and must not read as idle.

A fake control API stands in for the mock: it answers ``GET /_mock/journal`` the way
mock_server/control/views.py does (``entries`` after ``since``, ``last_id``, ``truncated``).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from conformance.observation import HARNESS_USER_AGENT, Observation
from conformance.steps import StepRuntime, run_step


class FakeJournal:
    """A bounded journal; ``per_poll(n)`` says how many requests the integration makes before poll n."""

    def __init__(self, limit: int, per_poll: Any, harness_per_poll: int = 0) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self.next_id = 1
        self.per_poll, self.harness_per_poll = per_poll, harness_per_poll
        self.polls: list[int] = []

    def _add(self, user_agent: str) -> None:
        self.entries.append({"id": self.next_id, "kind": "api", "path": "/documents", "user_agent": user_agent})
        self.next_id += 1

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        assert path == "/_mock/journal"
        for _ in range(self.per_poll(len(self.polls))):
            self._add("python-urllib/3.11")
        for _ in range(self.harness_per_poll):
            self._add(f"{HARNESS_USER_AGENT}/1.0")
        since, limit = int(params["since"]), int(params["limit"])
        self.polls.append(since)
        after = [e for e in self.entries if e["id"] > since]
        page = after[:limit]
        last_id = page[-1]["id"] if page else since
        return {"entries": page, "dropped": 0, "truncated": len(after) > limit, "last_id": last_id}

    def journal(self, since: int = 0) -> list[dict[str, Any]]:
        """MockClient.journal: the whole listing after ``since`` (what a length-based wait counted)."""
        return self.get("/_mock/journal", since=since, limit=100_000)["entries"]

    def status_reports(self) -> list[dict[str, Any]]:
        return []


def wait_idle(journal: FakeJournal, quiet: float, timeout: float) -> Observation:
    observation = Observation("idle", "webhook", None, False)
    runtime = StepRuntime(
        mock=journal,  # type: ignore[arg-type]
        observation=observation,
        webhook_id=None,
        deadline=time.monotonic() + 60,
        start_target=lambda: None,
    )
    run_step(runtime, {"wait": {"until": "idle", "quiet": quiet, "timeout": timeout}})
    return observation


def test_a_flood_that_keeps_a_bounded_journal_full_is_still_busy() -> None:
    journal = FakeJournal(limit=50, per_poll=lambda _n: 20)  # 20 requests between polls, 50 kept
    observation = wait_idle(journal, quiet=0.05, timeout=0.5)
    assert observation.step_problems == ["the integration was still busy after 0.5 s"]
    assert len(journal.entries) == 50  # the length a length-based wait would have read as "no change"
    # Each poll asked only for what came after the cursor the previous poll returned.
    assert journal.polls == sorted(journal.polls) and len(set(journal.polls)) == len(journal.polls)


def test_an_integration_that_stops_is_idle_even_while_the_harness_calls() -> None:
    journal = FakeJournal(limit=50, per_poll=lambda n: 20 if n < 3 else 0, harness_per_poll=1)
    observation = wait_idle(journal, quiet=0.05, timeout=5)
    assert observation.step_problems == []
    assert len(journal.polls) < 50  # it returned once quiet, long before the timeout
