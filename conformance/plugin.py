"""pytest plugin (entry point ``pytest11``): run Askara's conformance story from a vendor's own suite.

Fixtures:

* ``askara_mock`` – a mock served by uvicorn on free loopback ports for the test (its ``url``, the
  ``files_url`` of the files origin its PDF links point to, ``settings``); options through
  ``@pytest.mark.askara_mock(**settings)``.
* ``askara_mock_client`` – a :class:`conformance.mockclient.MockClient` of that mock's control API.
* ``askara_conformance`` – a function ``(target_url, scenarios=..., start=..., **options) -> RunResult``
  that runs scenarios against an integration with its own mock and returns the result;
  ``result.exit_code == 0`` when every check passed. ``assert_conformant(result)`` fails the test
  with every failed check and its evidence.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conformance.mockclient import MockClient
from conformance.reports.summary import NOTHING_JUDGED
from conformance.runner import RunConfig, RunResult, run
from conformance.scenario import load, standard_suite
from mock_server.core.settings import Settings
from mock_server.serving import serve_in_thread


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "askara_mock(**settings): settings of the askara_mock fixture's mock")


@pytest.fixture
def askara_mock(request: pytest.FixtureRequest) -> Iterator[Any]:
    marker = request.node.get_closest_marker("askara_mock")
    overrides = dict(marker.kwargs) if marker else {}
    with serve_in_thread(Settings(**overrides)) as running:
        yield running


@pytest.fixture
def askara_mock_client(askara_mock: Any) -> Iterator[MockClient]:
    client = MockClient(askara_mock.url)
    try:
        yield client
    finally:
        client.close()


def assert_conformant(result: RunResult) -> None:
    """Fail with every failed check, its message and evidence; pass when the run passed."""
    if result.error and result.error.startswith(NOTHING_JUDGED):
        pytest.fail(f"not a pass, {result.error}", pytrace=False)
    if result.error:
        pytest.fail(f"the conformance run could not be made: {result.error}", pytrace=False)
    failed = [c for c in result.checks if c.status == "failed"]
    if failed:
        lines = [f"{c.check}: {c.message}\n{json.dumps(c.evidence[:5], indent=2, default=str)}" for c in failed]
        pytest.fail("conformance checks failed:\n" + "\n\n".join(lines), pytrace=False)


@pytest.fixture
def askara_conformance() -> Callable[..., RunResult]:
    def runner(
        target_url: str, scenarios: list[str] | None = None, start: str | None = None, **options: Any
    ) -> RunResult:
        loaded = [load(name) for name in scenarios] if scenarios else standard_suite()
        return run(RunConfig(target_url=target_url, scenarios=loaded, start=start, **options))

    return runner
