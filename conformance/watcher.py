"""What a run tells an observer of its mock: once it is set up, and before it stops.

A separate module so the runner stays small and a watcher (``conformance run --bundle``,
run_bundle.py) needs no import of the runner to be one.
"""

from __future__ import annotations

from typing import Any, Protocol

from conformance.mockclient import MockClient


class MockWatcher(Protocol):
    """Told of the run's mock at the story's start (credentials issued, webhook registered, the integration
    not started yet) and before the mock stops (the integration stopped)."""

    def started(self, mock: MockClient, credentials: dict[str, Any]) -> None: ...

    def stopping(self, mock: MockClient) -> None: ...
