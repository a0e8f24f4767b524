"""Integrations that misbehave badly do not break the harness: one that hangs, crashes mid-run,
never listens, answers garbage or floods the mock each gets failed or skipped checks with the
reason, the run ends within its --timeout, and no process of the integration is left behind.

The misbehaving programs are under tests/integrations/misbehaving/; each writes its pid (and its
children's) to a file, so the test can look for them after the run.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from conformance.checks import judge
from conformance.mockclient import MockClient
from conformance.observation import Observation
from conformance.runner import EXIT_FAILED, EXIT_NOT_RUN, RunConfig, RunResult, run
from conformance.scenario import parse
from mock_server import Settings
from mock_server.serving import free_port, serve_in_thread

MISBEHAVING = Path(__file__).resolve().parent / "integrations" / "misbehaving"
TIMEOUT = 10.0
BOUND = TIMEOUT + 15.0
# One delivery, a wait for its first attempt, then a second delivery and a short wait for reports.
# The bucket is drained first so that a flood meets 429s at once (the others make no API call).
SCENARIO = """
name: robustness
seed: 3
timeout: 14
checks: [ack-within-5s, always-confirm, rate-limit]
steps:
  - fault: {kind: drain_bucket}
  - trigger: {event: new_document, as: first}
  - wait: {until: attempts, document: first, count: 1, timeout: 6}
  - trigger: {event: new_document, as: second}
  - wait: {until: status-reports, timeout: 2}
"""
# For the flood: end on an idle wait, the harness's heaviest polling (the whole journal each time).
FLOOD_SCENARIO = SCENARIO.replace("wait: {until: status-reports, timeout: 2}", "wait: {until: idle, timeout: 6}")


def gone(pid: int) -> bool:
    """True once no such process runs. A zombie counts as gone: it is dead and only waits for
    whichever process adopted it to reap it (the harness cannot reap a grandchild)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


def assert_no_process_left(pid_file: Path) -> None:
    pids = [int(line) for line in pid_file.read_text().split()]
    assert pids, "the integration never wrote its pid"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(gone(pid) for pid in pids):
        time.sleep(0.05)
    left = [pid for pid in pids if not gone(pid)]
    assert not left, f"processes left behind: {left}"


def run_misbehaving(
    tmp_path: Path, script: str, scenario: str = SCENARIO, **options: object
) -> tuple[RunResult, float, Path]:
    port = free_port()
    pid_file = tmp_path / "pids"
    command = f"{sys.executable} {MISBEHAVING / script} --port {port} --pid-file {pid_file}"
    config = RunConfig(
        target_url=f"http://127.0.0.1:{port}/webhook",
        scenarios=[parse(scenario, "robustness.yaml")],
        start=command,
        timeout=TIMEOUT,
        **options,  # type: ignore[arg-type]
    )
    began = time.monotonic()
    result = run(config)
    return result, time.monotonic() - began, pid_file


def statuses(result: RunResult) -> dict[str, tuple[str, str]]:
    fed = ("ack-within-5s", "always-confirm", "rate-limit")
    return {c.check: (c.status, c.message) for c in result.checks if c.check in fed}


def assert_judged(result: RunResult, may_pass: tuple[str, ...] = ()) -> None:
    """Every check the scenario feeds is failed or skipped with a reason; none passes unless the
    integration really did that part right (``may_pass``)."""
    for check, (status, message) in statuses(result).items():
        assert status in ("failed", "skipped") or check in may_pass, f"{check} {status}: {message}"
        assert message.strip(), f"{check} has no reason"


@pytest.mark.e2e
def test_an_integration_that_hangs_fails_the_ack_check_and_is_killed(tmp_path: Path) -> None:
    result, took, pid_file = run_misbehaving(tmp_path, "hang.py")
    assert result.error is None, result.error
    assert result.exit_code == EXIT_FAILED
    assert took < BOUND
    assert_judged(result)
    status, message = statuses(result)["ack-within-5s"]
    assert status == "failed"
    assert "not answered 2xx within 5 s" in message and "timeout" in message
    # It ignores SIGTERM and has a child that does too: the harness needs SIGKILL on the group.
    assert len(pid_file.read_text().split()) == 2
    assert_no_process_left(pid_file)


@pytest.mark.e2e
def test_an_integration_that_crashes_mid_run_is_reported(tmp_path: Path) -> None:
    result, took, pid_file = run_misbehaving(tmp_path, "crash.py")
    assert result.error is None, result.error
    assert result.exit_code == EXIT_FAILED
    assert took < BOUND
    # Its one answer came in time; nothing else it was asked to do happened.
    assert_judged(result, may_pass=("ack-within-5s",))
    status, message = statuses(result)["always-confirm"]
    assert status == "failed"
    assert "exited with code 3" in message
    assert result.integration["exit_code"] == 3
    assert any("the integration exited (code 3) before step" in p for p in result.scenarios[0].problems), (
        result.scenarios[0].problems
    )
    assert "first delivery answered, exiting" in result.integration["output_tail"]
    assert_no_process_left(pid_file)


@pytest.mark.e2e
def test_an_integration_that_never_listens_is_a_run_not_made(tmp_path: Path) -> None:
    result, took, pid_file = run_misbehaving(tmp_path, "never_listen.py", startup_timeout=1.5)
    assert result.exit_code == EXIT_NOT_RUN
    assert result.error is not None and "did not listen" in result.error and "1.5 s" in result.error
    assert took < 1.5 + 15
    assert_no_process_left(pid_file)


@pytest.mark.e2e
def test_an_integration_that_answers_garbage_fails_the_ack_check(tmp_path: Path) -> None:
    result, took, pid_file = run_misbehaving(tmp_path, "garbage.py")
    assert result.error is None, result.error
    assert result.exit_code == EXIT_FAILED
    assert took < BOUND
    assert_judged(result)
    status, message = statuses(result)["ack-within-5s"]
    assert status == "failed", message
    assert "not answered 2xx within 5 s" in message
    assert statuses(result)["always-confirm"][0] == "skipped"
    assert_no_process_left(pid_file)


@pytest.mark.e2e
def test_an_integration_that_floods_the_mock_ends_in_time(tmp_path: Path) -> None:
    # A small journal, so the flood surely fills it: its length then stays at the limit while the
    # flood goes on, and the idle wait must still see the integration busy (it reads the cursor).
    with serve_in_thread(Settings(seed=3, clock="real", journal_limit=200)) as mock:
        result, took, pid_file = run_misbehaving(tmp_path, "flood.py", FLOOD_SCENARIO, mock_url=mock.url)
        journal = MockClient(mock.url)
        try:
            listing = journal.get("/_mock/journal", limit=1)
        finally:
            journal.close()
    assert listing["dropped"] > 0, "the flood never filled the journal"
    assert result.error is None, result.error
    assert result.exit_code == EXIT_FAILED
    assert took < BOUND
    assert_judged(result, may_pass=("ack-within-5s",))  # it does acknowledge, then does no work
    status, message = statuses(result)["rate-limit"]
    assert status == "failed"
    assert "before Retry-After had elapsed" in message
    assert statuses(result)["always-confirm"][0] == "failed"
    assert any("still busy" in p for p in result.scenarios[0].problems), result.scenarios[0].problems
    assert_no_process_left(pid_file)


def test_judging_a_full_journal_of_429s_stays_fast() -> None:
    """A flood fills the mock's 10 000-entry journal with 429s: the rate-limit check must judge it
    fast (it compared every 429 with every request: ~40 s at 10 000 entries; now a few ms). The bound
    is a safety bound that only the quadratic version could miss, not a benchmark."""
    observation = Observation("flood", "webhook", None, False)
    observation.journal = [
        {"id": i, "kind": "api", "status": 429 if i % 2 else 200, "wall": 1000 + i * 0.001, "retry_after": 3,
         "bucket": "a" if i % 3 else "b"}
        for i in range(10_000)
    ]  # fmt: skip
    began = time.monotonic()
    result = judge("rate-limit", observation)
    assert time.monotonic() - began < 10.0
    assert result.status == "failed"
    # Same counts as the plain definition, on a slice small enough to compute it directly.
    small = Observation("flood", "webhook", None, False)
    small.journal = observation.journal[:300]
    naive = 0
    for entry in (e for e in small.journal if e["status"] == 429):
        until = entry["wall"] + 3 * 0.9
        naive += sum(1 for e in small.journal if entry["wall"] < e["wall"] < until and e["bucket"] == entry["bucket"])
    assert sum(p["requests_before_retry_after"] for p in judge("rate-limit", small).evidence) == naive
