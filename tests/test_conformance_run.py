"""Run-level promises of ``askara-mock conformance run``, through the real CLI: exit 0 when every
check passed, 1 when one failed, 2 when the run could not be made (with the reason printed); and
two runs on one machine at the same time never see each other's state. The passing, failing and
not-made runs that other tests read too are made once per session by conftest.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import cli_run, reference_command

from conformance.runner import EXIT_FAILED, EXIT_NOT_RUN, EXIT_PASSED, RunConfig, RunResult, run
from conformance.scenario import load
from mock_server.serving import free_port

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "integrations" / "reference.py"
CLI = Path(sys.executable).parent / "askara-mock"


def conformance_run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "conformance", "run", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "400"},  # one line per message, whatever the terminal
    )


@pytest.mark.e2e
def test_exit_0_when_every_check_passed(reference_suite_run: Path) -> None:
    """The correct reference over the standard webhook suite (conftest: one run per session, whose
    JSON report test_conformance_checks judges check by check)."""
    exit_code, terminal, _args = cli_run(reference_suite_run)
    assert exit_code == EXIT_PASSED, terminal
    # Every check of the webhook suite passes; only the signature and polling checks (other flags) skip.
    assert re.search(r"^PASSED: \d+ passed, 0 failed, 2 skipped in \d+\.\d s$", terminal, re.M), terminal


@pytest.mark.e2e
def test_exit_1_when_a_check_failed(never_confirm_run: Path) -> None:
    """The reference with never-confirm on basics (conftest: shared with the report tests)."""
    exit_code, terminal, _args = cli_run(never_confirm_run)
    assert exit_code == EXIT_FAILED, terminal
    assert re.search(r"^FAILED: \d+ passed, 1 failed, \d+ skipped", terminal, re.M), terminal
    assert "got no POST /documents/{uuid}/status" in terminal


@pytest.mark.e2e
def test_exit_2_when_the_start_command_exits_at_once(tmp_path: Path) -> None:
    port = free_port()
    command = f"{sys.executable} -c \"import sys; print('cannot read my config'); sys.exit(4)\""
    done = conformance_run(
        "--target-url", f"http://127.0.0.1:{port}/webhook", "--start", command, "--scenario", "basics",
        "--timeout", "20",
    )  # fmt: skip
    assert done.returncode == EXIT_NOT_RUN, done.stderr
    assert "The run could not be made" in done.stdout  # a result: on stdout
    assert "exited with code 4 before listening" in done.stdout
    assert "cannot read my config" in done.stdout  # the tail of its output, to see why


@pytest.mark.e2e
def test_exit_2_when_something_already_listens_where_start_would(tmp_path: Path) -> None:
    """A program left running on the target's port would be judged instead of ``--start``'s: the harness
    refuses before starting anything (the start command here would leave a file; it never runs)."""
    import socket

    marker = tmp_path / "started"
    command = f"{sys.executable} -c \"import pathlib; pathlib.Path({str(marker)!r}).touch()\""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = conformance_run(
            "--target-url", f"http://127.0.0.1:{port}/webhook", "--start", command, "--scenario", "basics",
            "--timeout", "20",
        )  # fmt: skip
    assert done.returncode == EXIT_NOT_RUN, done.stderr
    assert f"something already listens on 127.0.0.1:{port} before the integration was started" in done.stdout
    assert not marker.exists()


@pytest.mark.e2e
def test_exit_2_when_the_integration_never_listens(tmp_path: Path) -> None:
    port = free_port()
    command = f'{sys.executable} -c "import time; time.sleep(60)"'
    done = conformance_run(
        "--target-url", f"http://127.0.0.1:{port}/webhook", "--start", command, "--scenario", "basics",
        "--startup-timeout", "1", "--timeout", "20",
    )  # fmt: skip
    assert done.returncode == EXIT_NOT_RUN, done.stderr
    assert f"did not listen on 127.0.0.1:{port} within 1 s" in done.stdout


@pytest.mark.e2e
def test_exit_2_when_nothing_listens_and_there_is_no_start_command(nothing_listens_run: Path) -> None:
    exit_code, terminal, args = cli_run(nothing_listens_run)
    assert exit_code == EXIT_NOT_RUN, terminal
    port = args[args.index("--target-url") + 1].split(":")[2].split("/")[0]
    assert f"nothing listens on 127.0.0.1:{port}" in terminal


@pytest.mark.e2e
def test_exit_2_with_the_line_when_a_scenario_file_is_invalid(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: broken\nchecks: [always-confirm]\nsteps:\n  - trigger: {event: new_document}\n  - fault: {kind: dupe}\n",
        encoding="utf-8",
    )
    done = conformance_run("--target-url", "http://127.0.0.1:9/webhook", "--scenario", str(bad))
    assert done.returncode == EXIT_NOT_RUN, done.stderr
    assert "Scenario error" in done.stderr
    assert f"{bad}:5: steps[1].fault.kind: 'dupe' is not one of" in done.stderr.replace("\n", "")


@pytest.mark.e2e
def test_exit_2_for_an_unknown_standard_scenario() -> None:
    done = conformance_run("--target-url", "http://127.0.0.1:9/webhook", "--scenario", "basic")
    assert done.returncode == EXIT_NOT_RUN
    assert "Did you mean 'basics'?" in done.stderr


@pytest.mark.e2e
def test_two_runs_at_once_never_see_each_others_state(tmp_path: Path) -> None:
    """Same scenario, same seed (so the same document uuids in both mocks), one correct integration
    and one that never confirms, in two threads at once: each verdict is its own."""
    results: dict[str, RunResult] = {}
    errors: list[BaseException] = []

    def one(name: str, *defects: str) -> None:
        try:
            port = free_port()
            (tmp_path / name).mkdir()
            config = RunConfig(
                target_url=f"http://127.0.0.1:{port}/webhook",
                scenarios=[load("basics")],
                start=reference_command(port, tmp_path / name, *defects),
                timeout=40,
                seed=1,
            )
            results[name] = run(config)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [
        threading.Thread(target=one, args=("correct",)),
        threading.Thread(target=one, args=("broken", "never-confirm")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    correct, broken = results["correct"], results["broken"]
    assert correct.mock_url != broken.mock_url
    assert correct.exit_code == EXIT_PASSED, [(c.check, c.message) for c in correct.checks if c.status == "failed"]
    assert broken.exit_code == EXIT_FAILED
    assert [c.check for c in broken.checks if c.status == "failed"] == ["always-confirm"]
    # Each mock saw only its own integration: two documents confirmed by one, none by the other.
    correct_reports = [t for t in correct.timeline if t["kind"] == "status-report"]
    assert len(correct_reports) == 2
    assert not [t for t in broken.timeline if t["kind"] == "status-report"]
    # And each integration saved only what its own mock sent it (two letters each, not four).
    assert len(list((tmp_path / "correct").glob("*.pdf"))) == 2
    assert len(list((tmp_path / "broken").glob("*.pdf"))) <= 2


@pytest.mark.e2e
def test_no_register_uses_the_webhook_the_integration_registered_itself(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    command = f"{sys.executable} {REFERENCE} --port {port} --data-dir {tmp_path} --register-webhook {url}"
    result = run(
        RunConfig(target_url=url, scenarios=[load("basics")], start=command, register_webhook=False, timeout=60)
    )
    assert result.error is None, result.error
    assert result.exit_code == 0, [(c.check, c.message) for c in result.checks if c.status == "failed"]


@pytest.mark.e2e
def test_no_register_without_a_webhook_of_its_own_cannot_run(tmp_path: Path) -> None:
    port = free_port()
    command = f"{sys.executable} {REFERENCE} --port {port} --data-dir {tmp_path}"
    result = run(
        RunConfig(
            target_url=f"http://127.0.0.1:{port}/webhook",
            scenarios=[load("basics")],
            start=command,
            register_webhook=False,
            startup_timeout=2,
            timeout=30,
        )
    )
    assert result.exit_code == 2
    assert "registered no active webhook" in (result.error or "")


def test_every_cli_option_reaches_the_run_config(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    import conformance.cli as cli
    from mock_server.cli import main

    seen: list[RunConfig] = []

    def fake_run(config: RunConfig) -> RunResult:
        seen.append(config)
        return RunResult(config, "passed", EXIT_PASSED, [], [], 0.0, 0.0)

    monkeypatch.setattr(cli, "run", fake_run)
    args = [
        "conformance",
        "run",
        "--target-url",
        "http://127.0.0.1:9/w",
        "--scenario",
        "basics",
        "--mode",
        "polling",
        "--no-register",
        "--signatures",
        "--mock-port",
        "9100",
        "--client-secret",
        "s3cret",
        "--webhook-secret",
        "whsec_abc",
        "--refresh-token",
        "def502tokentokentoken",
        "--seed",
        "7",
        "--timeout",
        "42",
        "--startup-timeout",
        "3",
        "--scenario-timeout",
        "33",
        "--wait-timeout",
        "8",
        "--idle-quiet",
        "0.7",
        "--stop-grace",
        "1.5",
        "--mock-tls",
        "--mock-ca",
        __file__,
        "--start",
        "true",
        "--quiet",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    config = seen[0]
    assert (config.mode, config.register_webhook, config.signatures, config.mock_port) == ("polling", False, True, 9100)
    assert (config.client_secret, config.webhook_secret, config.refresh_token) == (
        "s3cret",
        "whsec_abc",
        "def502tokentokentoken",
    )
    assert (config.seed, config.timeout, config.startup_timeout, config.start) == (7, 42.0, 3.0, "true")
    assert (config.scenario_timeout, config.wait_timeout, config.idle_quiet, config.stop_grace) == (33.0, 8.0, 0.7, 1.5)
    assert [s.name for s in config.scenarios] == ["basics"]
    assert (config.mock_tls, config.mock_ca) == (True, __file__)
