"""One conformance run: start a mock, register the webhook, start the integration, play the
scenarios, judge every check, stop everything. ``run(config)`` is the library entry point the CLI
and the pytest plugin share.

Time: the harness's mock runs a *real* clock (one mock second per real second) that the harness
may also jump forward (``advance``). Mock time is then never behind real time, so whatever the
integration waits for in real time (a Retry-After, its own polling timer) has also passed on the
mock, while retries, link and token expiry are reached by jumps in milliseconds. The rate-limit
refill interval is shortened (``rate_limit_interval``, 1 s by default) so that a Retry-After an
integration sleeps through stays short.
"""

from __future__ import annotations

import contextlib
import importlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance import steps_production  # noqa: F401 - registers its step kinds
from conformance.checks import CHECKS, CheckResult, judge
from conformance.mockclient import MockClient, MockError
from conformance.mockstart import MockEndpoint, started_mock
from conformance.observation import Observation
from conformance.run_warnings import RunWarnings, gather, journal_cursor
from conformance.scenario import Scenario
from conformance.steps import StepError, StepRuntime, run_step
from conformance.target import TargetError, TargetProcess, is_listening, refuse_if_taken, target_address
from conformance.timeline import timeline as _timeline
from conformance.verdict import EXIT_FAILED, EXIT_NOT_RUN, EXIT_PASSED, nothing_judged, verdict_of  # noqa: F401 (re-exported)
from conformance.waits import apply as apply_missed_waits
from conformance.waits import resolve as resolve_missed_waits
from conformance.watcher import MockWatcher
from mock_server.core.settings import Settings

DOCUMENT_EVENTS = ["new_document", "document_synchronize", "new_note"]


@dataclass
class RunConfig:
    target_url: str
    scenarios: list[Scenario]
    start: str | None = None
    mock_url: str | None = None
    mock_port: int | None = None
    mock_files_port: int | None = None
    """Port of the files origin (PDF links) with ``mock_port``; None: ``mock_port`` + 1. Without one: free ports."""
    mock_tls: bool = False
    """Serve the harness's mock over HTTPS with a CA it issues (``--mock-tls``); the integration is told the CA."""
    mock_ca: str | None = None
    """The CA of an HTTPS ``mock_url`` (``--mock-ca``), trusted besides the system store."""
    mode: str = "webhook"
    signatures: bool = False
    timeout: float = 300.0
    startup_timeout: float = 15.0
    wait_timeout: float = 5.0
    """A ``wait`` step's timeout when the scenario gives none (``--wait-timeout``)."""
    idle_quiet: float = 0.2
    """Seconds without a request of the integration that make it idle (``--idle-quiet``)."""
    stop_grace: float = 3.0
    """Seconds between SIGTERM and SIGKILL when the integration is stopped (``--stop-grace``)."""
    scenario_timeout: float | None = None
    """The limit of a scenario whose file sets no ``timeout`` (``--scenario-timeout``); None: 20 s."""
    seed: int | None = None
    rate_limit_interval: int = 1
    client_secret: str | None = None
    webhook_secret: str | None = None
    refresh_token: str | None = None
    """The refresh token an already-running integration was configured with; registered in the mock."""
    register_webhook: bool = True
    """False: the integration registers its own webhook (POST /webhooks); the harness finds and uses it."""
    extra_env: dict[str, str] = field(default_factory=dict)
    progress: Callable[[str], None] | None = None
    """Told a line of progress as the run goes (the CLI shows it live)."""
    watcher: MockWatcher | None = None
    """Told of the mock once it is set up and before it stops (``--bundle``)."""

    def say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)


@dataclass
class ScenarioOutcome:
    name: str
    source: str
    status: str
    duration_s: float
    results: list[CheckResult]
    problems: list[str]
    observation: Observation | None = None


@dataclass
class RunResult:
    config: RunConfig
    verdict: str
    exit_code: int
    checks: list[CheckResult]
    scenarios: list[ScenarioOutcome]
    started_at: float
    duration_s: float
    mock_url: str = ""
    error: str | None = None
    integration: dict[str, Any] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    warnings: RunWarnings = field(default_factory=RunWarnings)
    """Assumptions the integration leaned on and flagged webhooks: reported, never a failure."""
    seed: int | None = None
    """The mock's seed: ``--seed`` when given, else fresh per run; ``--seed`` with it replays the run's data."""


def _mock(config: RunConfig, seed: int) -> contextlib.AbstractContextManager[MockEndpoint]:
    settings = Settings(
        port=config.mock_port or 0,
        files_port=config.mock_files_port,
        seed=seed,
        clock="real",
        rate_limit_interval=config.rate_limit_interval,
        client_secret=config.client_secret,
        webhook_secret=config.webhook_secret
        or ("whsec_" + "YXNrYXJhLW1vY2stY29uZm9ybWFuY2Utc2VjcmV0" if config.signatures else None),
        tls=config.mock_tls,
    )
    return started_mock(settings, url=config.mock_url, ca_file=config.mock_ca, pick_port=config.mock_port is None)


def run(config: RunConfig) -> RunResult:
    """Play ``config.scenarios`` against the integration and judge every check."""
    started_at, started = time.time(), time.monotonic()
    deadline = started + config.timeout
    seed = config.seed if config.seed is not None else secrets.randbelow(2**31)  # fresh uuids unless --seed
    outcomes: list[ScenarioOutcome] = []
    target: TargetProcess | None = None
    integration: dict[str, Any] = {"command": config.start}
    warnings = RunWarnings()
    try:
        with _mock(config, seed) as endpoint:
            mock_url = endpoint.url
            mock = MockClient(mock_url, ca_file=endpoint.ca_file)
            try:
                journal_start = journal_cursor(mock)
                creds = (
                    mock.post("/_mock/credentials", {"refresh_token": config.refresh_token})
                    if config.refresh_token
                    else mock.credentials()
                )
                registers = config.mode == "webhook" and config.register_webhook
                webhook_id = _webhook(mock, config) if registers else None
                env = {
                    "ASKARA_API_URL": mock_url,
                    "ASKARA_CLIENT_ID": creds["client_id"],
                    "ASKARA_CLIENT_SECRET": creds["client_secret"],
                    "ASKARA_REFRESH_TOKEN": creds["refresh_token"],
                    "ASKARA_WEBHOOK_URL": config.target_url,
                    **({"ASKARA_WEBHOOK_SECRET": creds["webhook_secret"]} if creds.get("webhook_secret") else {}),
                    **endpoint.trust_env(),
                    **config.extra_env,
                }
                if config.watcher is not None:
                    config.watcher.started(mock, creds)
                if config.start:
                    target = TargetProcess(config.start, env)

                def start_target(port_wait: float = 0.0) -> None:
                    if target is None or target.process is not None:
                        return
                    if config.mode == "webhook":
                        refuse_if_taken(config.target_url, port_wait)
                    target.start()
                    if config.mode == "webhook":
                        target.wait_listening(
                            config.target_url, min(config.startup_timeout, deadline - time.monotonic())
                        )

                if config.mode == "webhook":
                    if target is not None:
                        start_target()
                    else:
                        host, port = target_address(config.target_url)
                        if not is_listening(host, port):
                            raise TargetError(f"nothing listens on {host}:{port} and no --start command was given")
                    if not registers:
                        webhook_id = _wait_for_own_webhook(mock, config, deadline)

                def restart_target(grace: float) -> None:
                    if target is None:
                        raise StepError("restart needs an integration the harness started (--start)")
                    target.stop(grace)
                    target.process = None
                    start_target(port_wait=grace)

                cursors = _Cursors()
                _warm_up(config.scenarios)
                for scenario in config.scenarios:
                    config.say(f"scenario {scenario.name} ...")
                    outcome = _play(
                        scenario, config, mock, webhook_id, deadline, (start_target, restart_target), target, cursors
                    )
                    outcomes.append(outcome)
                    config.say(f"scenario {scenario.name}: {outcome.status} ({outcome.duration_s:.2f} s)")
                    for missed in outcome.observation.missed_waits if outcome.observation else []:
                        config.say(f"scenario {scenario.name}: {missed.describe()}")
                integration["still_running"] = target.alive() if target else None
                timeline = _timeline(mock)
                with contextlib.suppress(MockError):
                    warnings = gather(mock, since=journal_start)
            finally:
                if target is not None:
                    target.stop(config.stop_grace)
                    integration["exit_code"] = target.exit_code
                    integration["output_tail"] = target.output_tail()[-4000:]
                    target.cleanup()
                if config.watcher is not None:
                    config.watcher.stopping(mock)
                mock.close()
    except (TargetError, MockError, OSError, RuntimeError) as exc:
        return RunResult(
            config,
            "error",
            EXIT_NOT_RUN,
            [],
            outcomes,
            started_at,
            time.monotonic() - started,
            error=str(exc),
            integration=integration,
            seed=seed,
        )
    checks = _aggregate(outcomes)
    verdict, exit_code, unjudged = verdict_of(outcomes, checks)
    return RunResult(
        config,
        verdict,
        exit_code,
        checks,
        outcomes,
        started_at,
        time.monotonic() - started,
        mock_url=mock_url,
        error=unjudged,
        integration=integration,
        timeline=timeline,
        warnings=warnings,
        seed=seed,
    )


def _warm_up(scenarios: list[Scenario]) -> None:
    """Import Hypothesis (about a second) in the background while the first scenarios run, when a
    later one fuzzes: the import would otherwise be paid inside that scenario's time."""
    if any("fuzz" in step for scenario in scenarios for step in scenario.steps):
        threading.Thread(target=importlib.import_module, args=("conformance.fuzz",), daemon=True).start()


def _wait_for_own_webhook(mock: MockClient, config: RunConfig, deadline: float) -> str:
    """The webhook the integration registered itself for ``--target-url`` (``--no-register``)."""
    end = min(deadline, time.monotonic() + config.startup_timeout)
    while True:
        hooks = [h for h in mock.list_of("/_mock/webhooks") if h.get("url") == config.target_url and h.get("active")]
        if hooks:
            missing = [e for e in ("new_document", "new_note") if e not in hooks[-1].get("events", [])]
            if missing:
                config.say(f"the integration's webhook does not subscribe to {', '.join(missing)}")
            return str(hooks[-1]["uuid"])
        if time.monotonic() >= end:
            raise TargetError(
                f"the integration registered no active webhook for {config.target_url} within "
                f"{config.startup_timeout:g} s (POST /webhooks with that url); or run without --no-register"
            )
        time.sleep(0.05)


def _webhook(mock: MockClient, config: RunConfig) -> str:
    for hook in mock.webhooks():
        if hook.get("url") == config.target_url and hook.get("active"):
            return str(hook["uuid"])
    return str(mock.register_webhook(config.target_url, DOCUMENT_EVENTS)["uuid"])


@dataclass
class _Cursors:
    journal: int = 0
    deliveries: set[str] = field(default_factory=set)
    reports: set[str] = field(default_factory=set)


def _play(
    scenario: Scenario,
    config: RunConfig,
    mock: MockClient,
    webhook_id: str | None,
    deadline: float,
    lifecycle: tuple[Any, Any],
    target: TargetProcess | None,
    cursors: _Cursors,
) -> ScenarioOutcome:
    began = time.monotonic()
    observation = Observation(scenario.name, config.mode, webhook_id, config.signatures)
    skip_reason = None
    if scenario.mode != config.mode:
        skip_reason = f"scenario is for {scenario.mode} integrations; this run is {config.mode}"
    elif "signatures" in scenario.requires and not config.signatures:
        skip_reason = "the integration does not claim to verify signatures (run with --signatures)"
    elif "start" in scenario.requires and target is None:
        skip_reason = "the harness did not start the integration (run with --start), so it cannot restart it"
    elif time.monotonic() >= deadline:
        skip_reason = "the run's --timeout was reached before this scenario"
    if skip_reason:
        results = [CheckResult(c, "skipped", skip_reason, [], scenario.name) for c in scenario.checks]
        return ScenarioOutcome(scenario.name, scenario.source, "skipped", 0.0, results, [])
    limit, limit_name = _scenario_limit(scenario, config)
    runtime = StepRuntime(
        mock,
        observation,
        webhook_id,
        min(deadline, began + limit),
        lifecycle[0],
        known_deliveries=set(cursors.deliveries),
        known_reports=set(cursors.reports),
        journal_cursor=cursors.journal,
        wait_timeout=config.wait_timeout,
        idle_quiet=config.idle_quiet,
        deadline_limit=limit_name if began + limit <= deadline else f"the run's --timeout, {config.timeout:g} s",
        restart_target=lifecycle[1],
    )
    problems: list[str] = []
    for index, spec in enumerate(scenario.steps):
        if target is not None and target.process is not None and not target.alive():
            problems.append(f"the integration exited (code {target.process.returncode}) before step {index + 1}")
            break
        runtime.step_index = index + 1
        try:
            run_step(runtime, spec)
        except (StepError, TargetError) as exc:
            problems.append(f"step {index + 1} ({next(iter(spec))}): {exc}")
            break
    observation.deliveries = runtime.deliveries()
    observation.reports = runtime.reports()
    journal = runtime.mock.journal(since=cursors.journal)
    observation.journal = runtime.journal()
    observation.step_problems.extend(problems)
    if target is not None and target.process is not None and not target.alive():
        observation.integration_exit = target.process.returncode
    cursors.journal = max([cursors.journal, *(int(e.get("id", 0)) for e in journal)])
    cursors.deliveries.update(str(d.get("id")) for d in observation.deliveries)
    cursors.reports.update(str(r.get("id")) for r in observation.reports)
    resolve_missed_waits(observation)
    results = apply_missed_waits(observation, [judge(check_id, observation) for check_id in scenario.checks])
    status = "failed" if any(r.status == "failed" for r in results) else "passed"
    if problems and status == "passed":
        status = "error"
    return ScenarioOutcome(
        scenario.name,
        scenario.source,
        status,
        time.monotonic() - began,
        results,
        observation.step_problems,
        observation,
    )


def _scenario_limit(scenario: Scenario, config: RunConfig) -> tuple[float, str]:
    """The scenario's time limit and how a reader names it: its file's ``timeout``, else ``--scenario-timeout``."""
    if "timeout" in scenario.raw or config.scenario_timeout is None:
        source = "set in its file" if "timeout" in scenario.raw else "the default; --scenario-timeout"
        return scenario.timeout, f"the scenario's timeout, {scenario.timeout:g} s, {source}"
    return config.scenario_timeout, f"the scenario's timeout, {config.scenario_timeout:g} s, --scenario-timeout"


def _aggregate(outcomes: list[ScenarioOutcome]) -> list[CheckResult]:
    """One verdict per check id: failed if any scenario failed it, passed if one passed it, else skipped."""
    verdicts = []
    for check_id in CHECKS:
        results = [r for o in outcomes for r in o.results if r.check == check_id]
        for status in ("failed", "passed"):
            decisive = [r for r in results if r.status == status]
            if decisive:
                verdicts.append(
                    CheckResult(
                        check_id,
                        status,
                        "; ".join(f"[{r.scenario}] {r.message}" for r in decisive),
                        [e for r in decisive for e in r.evidence][:50] if status == "failed" else [],
                        ",".join(r.scenario for r in decisive),
                    )
                )
                break
        else:
            reasons = sorted({r.message for r in results}) or ["no scenario in this run feeds this check"]
            verdicts.append(CheckResult(check_id, "skipped", "; ".join(reasons), [], ""))
    return verdicts
