"""Every conformance check proved both ways: the correct reference integration passes it, and the
variant with the one defect that targets it fails it, with the defect named in the report.

Each run is real: a mock served by uvicorn on loopback, the reference integration as its own
process receiving real webhooks, the harness judging from the mock's control API. The correct
reference's run of the whole suite goes through the CLI, once per session (conftest.py).
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from conformance.checks import CHECKS, judge
from conformance.observation import Observation
from conformance.runner import RunConfig, RunResult, run
from conformance.scenario import load, standard_suite
from mock_server.serving import free_port

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "integrations" / "reference.py"
POLLING_CHECKS = {"pagination", "polling-interval"}


def run_reference(
    tmp_path: Path,
    scenarios: list[str] | None = None,
    *,
    defects: tuple[str, ...] = (),
    mode: str = "webhook",
    signatures: bool = False,
    timeout: float = 90.0,
) -> RunResult:
    port = free_port()
    command = [sys.executable, str(REFERENCE), "--port", str(port), "--mode", mode, "--data-dir", str(tmp_path)]
    for defect in defects:
        command += ["--defect", defect]
    if signatures:
        command.append("--verify-signatures")
    loaded = [load(name) for name in scenarios] if scenarios else standard_suite()
    return run(
        RunConfig(
            target_url=f"http://127.0.0.1:{port}/webhook",
            scenarios=loaded,
            start=" ".join(command),
            mode=mode,
            signatures=signatures,
            timeout=timeout,
        )
    )


def verdicts(result: RunResult) -> dict[str, str]:
    return {check.check: check.status for check in result.checks}


def message(result: RunResult, check_id: str) -> str:
    return next(c.message for c in result.checks if c.check == check_id)


@pytest.mark.e2e
def test_the_correct_reference_passes_the_standard_webhook_suite(reference_suite_run: Path) -> None:
    """Judged from the JSON report of the CLI's run of the whole suite (conftest: made once per
    session; test_conformance_run's exit-0 test reads the same run)."""
    report = json.loads((reference_suite_run / "reports" / "report.json").read_text(encoding="utf-8"))
    assert report["error"] is None, report["error"]
    got = {c["id"]: c["status"] for c in report["checks"]}
    failed = {c["id"]: c["message"] for c in report["checks"] if c["status"] == "failed"}
    assert not failed, failed
    assert report["exit_code"] == 0
    expected = set(CHECKS) - POLLING_CHECKS
    assert {c for c, s in got.items() if s == "passed"} == expected
    assert {c for c, s in got.items() if s == "skipped"} == POLLING_CHECKS


@pytest.mark.e2e
def test_the_correct_reference_passes_the_polling_scenario(tmp_path: Path) -> None:
    result = run_reference(tmp_path, ["polling"], mode="polling")
    assert result.error is None, result.error
    got = verdicts(result)
    assert got["pagination"] == "passed", message(result, "pagination")
    assert got["polling-interval"] == "skipped", message(result, "polling-interval")  # one cycle judges nothing
    assert "at least 3" in message(result, "polling-interval")
    assert got["always-confirm"] == "passed", message(result, "always-confirm")
    assert result.exit_code == 0


LONG_POLLING = """
name: polling-cycles
mode: polling
description: Watch a polling integration for three cycles (more than 60 s), so the interval is judged.
checks: [polling-interval, always-confirm]
timeout: 100
steps:
  - create: {as: backlog, count: 3, validate: true}
  - start: {}
  - wait: {until: status-reports, document: backlog, timeout: 10}
  - observe: 62
"""


@pytest.mark.e2e
@pytest.mark.timeout(200)
def test_the_correct_reference_passes_polling_interval_over_three_cycles(tmp_path: Path) -> None:
    """Slow on purpose (about 65 s, idle): the correct interval (30 s) needs three cycles to be judged."""
    scenario = tmp_path / "polling-cycles.yaml"
    scenario.write_text(LONG_POLLING, encoding="utf-8")
    result = run_reference(tmp_path, [str(scenario)], mode="polling", timeout=150)
    assert result.error is None, result.error
    assert verdicts(result)["polling-interval"] == "passed", message(result, "polling-interval")


BROKEN = [
    # defect, scenario, the check it must fail, words the report must use, mode, signatures
    ("slow-ack", "basics", "ack-within-5s", "not answered 2xx within 5 s", "webhook", False),
    ("fail-first", "retry", "retry-recovery", "imported exactly once", "webhook", False),
    ("no-dedupe", "duplicates", "dedupe", "deduplicate by uuid", "webhook", False),
    ("silent-failure", "download-failure", "confirm-failure", "no status report at all", "webhook", False),
    ("never-confirm", "basics", "always-confirm", "got no POST /documents/{uuid}/status", "webhook", False),
    ("dishonest-confirm", "download-failure", "honest-confirm", "without a whole PDF download", "webhook", False),
    ("ignore-expiry", "expired-link", "expired-url", "never called GET /documents/", "webhook", False),
    ("bearer-to-pdf-link", "basics", "anonymous-download", "sent an Authorization header", "webhook", False),
    ("no-refresh", "token-expiry", "token-refresh", "never tried to refresh", "webhook", False),
    ("reuse-refresh-token", "token-expiry", "refresh-rotation", "already spent", "webhook", False),
    ("stale-token-after-refresh", "token-expiry", "stale-token", "already replaced", "webhook", False),
    ("short-token-column", "token-expiry", "refresh-rotation", "truncated to 255 characters", "webhook", False),
    ("hammer-429", "rate-limit", "rate-limit", "before Retry-After had elapsed", "webhook", False),
    ("narrow-scope", "basics", "scopes", "missing scope", "webhook", False),
    ("first-event-only", "batch", "batch-events", "loop over every entry of events[]", "webhook", False),
    ("crash-unknown-event", "unknown-event", "unknown-events", "acknowledge with 200 and ignore", "webhook", False),
    ("ignore-notes", "basics", "note-events", "new_note delivery answered 500", "webhook", False),
    ("fragile-payloads", "unusual-payloads", "unusual-payloads", "not answered 2xx within 5 s", "webhook", False),
    ("accept-forged", "signatures", "signature", "was accepted", "webhook", True),
    ("reserialize-body", "signatures", "signature", "re-serialised JSON", "webhook", True),
    ("poll-every-second", "polling", "polling-interval", "polled again after", "polling", False),
    ("first-page-only", "polling", "pagination", "read every page", "polling", False),
    ("python-bool-filter", "polling", "pagination", 'Query parameter "synchronized"', "polling", False),
    ("post-me", "basics", "routes", "POST /me answered 405", "webhook", False),
    ("ignore-synchronize", "synchronize", "always-confirm", "document_synchronize: none came by", "webhook", False),
    ("string-success", "basics", "always-confirm", "posted but refused: 422", "webhook", False),
    ("corrupt-refresh-token", "token-expiry", "token-refresh", "invalid_grant", "webhook", False),
    ("ignore-synchronize", "synchronize", "synchronize-retry", "not downloaded again after the Synchronize", "webhook",
     False),
    ("no-retry-after-failure", "synchronize", "synchronize-retry", "never a document whose import failed", "webhook",
     False),
    ("act-on-unknown", "unknown-event", "unknown-inert", "downloaded its PDF", "webhook", False),
    ("give-up-on-transient", "transient-errors", "transient-errors", "answered 503 and was never sent again", "webhook",
     False),
    ("give-up-on-transient", "rate-limit", "transient-errors", "answered 429 and was never sent again", "webhook",
     False),
    ("work-before-ack", "slow-dependencies", "ack-within-5s", "Answer 200 at once", "webhook", False),
    ("uncoordinated-refresh", "token-expiry", "refresh-rotation", "already spent", "webhook", False),
    ("import-while-paging", "polling", "pagination", "read every page before confirming", "polling", False),
    ("post-me", "restart", "routes", "POST /me answered 405", "webhook", False),  # start-up calls, again mid-run
    ("memory-dedupe", "restart", "restart-state", "imported before the restart and again after it", "webhook", False),
    ("forget-refresh-token", "restart", "restart-state", "spent refresh token after the restart", "webhook", False),
]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("defect", "scenario", "check_id", "words", "mode", "signatures"), BROKEN, ids=[row[0] for row in BROKEN]
)
def test_each_defect_fails_the_check_that_targets_it(
    tmp_path: Path, defect: str, scenario: str, check_id: str, words: str, mode: str, signatures: bool
) -> None:
    result = run_reference(tmp_path, [scenario], defects=(defect,), mode=mode, signatures=signatures)
    assert result.error is None, result.error
    assert verdicts(result)[check_id] == "failed", f"{defect} should fail {check_id}: {message(result, check_id)}"
    assert words in message(result, check_id)
    assert result.exit_code == 1


CAUSES = [
    # defect, scenario, a check it fails that is not its target, words naming the real cause, signatures
    ("corrupt-refresh-token", "batch", "batch-events", "not for lack of a loop", False),
    ("reserialize-body", "basics", "ack-within-5s", "refused by the integration (401", True),
]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("defect", "scenario", "check_id", "words", "signatures"), CAUSES, ids=[f"{r[0]}-{r[2]}" for r in CAUSES]
)
def test_a_check_names_the_real_cause_of_what_did_not_happen(
    tmp_path: Path, defect: str, scenario: str, check_id: str, words: str, signatures: bool
) -> None:
    """A check another defect breaks says why (refused refreshes, refused deliveries), not "fix your loop"."""
    result = run_reference(tmp_path, [scenario], defects=(defect,), signatures=signatures)
    assert result.error is None, result.error
    assert verdicts(result)[check_id] == "failed", message(result, check_id)
    assert words in message(result, check_id)
    assert "loop over every entry" not in message(result, check_id)
    assert "Answer 200 at once" not in message(result, check_id)


def test_every_check_has_a_defect_that_fails_it() -> None:
    assert {row[2] for row in BROKEN} == set(CHECKS)


def _journal(*entries: dict[str, object]) -> Observation:
    return Observation("unit", "webhook", None, False, journal=[{"kind": "api", **e} for e in entries])


ROTATION = {"kind": "oauth", "grant_type": "refresh_token", "status": 200, "refresh_outcome": "rotated",
            "revoked_access_jti": "old", "issued_access_jti": "new", "wall": 10.0}


def test_stale_token_tolerates_a_request_in_flight_during_the_refresh() -> None:
    """The old token met in flight, before the integration had used the new one, is a race, not a defect."""
    race = _journal(
        ROTATION,
        {"status": 401, "auth_outcome": "revoked_by_refresh", "token_jti": "old", "wall": 10.01, "latency_ms": 2},
        {"status": 200, "token_jti": "new", "wall": 10.02},
    )
    assert judge("stale-token", race).status == "passed"
    stale = _journal(
        ROTATION,
        {"status": 200, "token_jti": "new", "wall": 10.02},
        {"status": 401, "auth_outcome": "revoked_by_refresh", "token_jti": "old", "wall": 11.0, "latency_ms": 2},
    )
    result = judge("stale-token", stale)
    assert result.status == "failed" and "already replaced" in result.message
    assert judge("stale-token", _journal({"status": 200, "token_jti": "x"})).status == "skipped"


def test_refresh_rotation_names_a_truncated_refresh_token() -> None:
    truncated = _journal(
        {"kind": "oauth", "grant_type": "refresh_token", "status": 400, "refresh_outcome": "truncated",
         "refresh_presented_length": 255, "refresh_issued_length": 828}
    )
    result = judge("refresh-rotation", truncated)
    assert result.status == "failed"
    assert "truncated to 255 characters" in result.message and "828" in result.message


# -- the judges of the routing refusals, on journals written by hand ----------------------------


def _observation(mode: str, *entries: dict[str, object]) -> Observation:
    observation = Observation("unit", mode, None, False)
    observation.journal = [{"id": n, "kind": "api", "wall": float(n), **e} for n, e in enumerate(entries, 1)]
    return observation


def test_routes_quotes_the_refused_call_and_what_the_mock_said() -> None:
    ok = {"method": "GET", "path": "/documents", "status": 200}
    refused = {"method": "POST", "path": "/me", "status": 405, "refused": "method", "problem": "Call GET /me."}
    assert judge("routes", _observation("webhook", ok)).status == "passed"
    assert judge("routes", _observation("webhook")).status == "skipped"
    result = judge("routes", _observation("webhook", ok, refused))
    assert result.status == "failed"
    assert "POST /me answered 405 (Call GET /me.)" in result.message
    unknown_document = {"method": "GET", "path": "/documents/0", "status": 404}  # a 404 for a missing resource
    assert judge("routes", _observation("webhook", ok, unknown_document)).status == "passed"


def test_pagination_fails_on_a_refused_poll_naming_the_filter() -> None:
    said = 'Query parameter "synchronized": The value \'False\' is not accepted'
    poll = {"method": "GET", "path": "/documents", "query": "synchronized=False&page=1", "status": 400, "problem": said}
    result = judge("pagination", _observation("polling", poll))
    assert result.status == "failed"
    assert "GET /documents?synchronized=False&page=1 answered 400" in result.message and said in result.message


def _polls(*walls: float) -> Observation:
    journal = [{"kind": "api", "method": "GET", "path": "/documents", "query": "synchronized=false", "wall": w}
               for w in walls]  # fmt: skip
    return Observation("unit", "polling", None, False, journal=journal)


def test_polling_interval_needs_three_cycles_to_pass() -> None:
    assert judge("polling-interval", _polls(0.0, 30.0)).status == "skipped"
    assert "at least 3" in judge("polling-interval", _polls(0.0)).message
    assert judge("polling-interval", _polls(0.0, 30.0, 61.0)).status == "passed"
    assert judge("polling-interval", _polls(0.0, 5.0)).status == "failed"  # a short gap is evidence enough


def test_the_mock_seed_is_fresh_per_run_unless_given() -> None:
    """Fresh seeds mean fresh document uuids, so a dedupe store kept between runs sees new documents."""
    config = {"target_url": f"http://127.0.0.1:{free_port()}/webhook", "scenarios": [], "timeout": 5.0}
    first, second = run(RunConfig(**config)), run(RunConfig(**config))  # type: ignore[arg-type]
    assert first.error and "nothing listens" in first.error  # no integration: the run stops early
    assert first.seed is not None and second.seed is not None and first.seed != second.seed
    assert run(RunConfig(**config, seed=7)).seed == 7  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("check_id", "reason"),
    [
        ("synchronize-retry", "no document_synchronize was delivered for a document reported failed"),
        ("unknown-inert", "no unknown event named a real document"),
        ("transient-errors", "no API call of the integration was answered 429 or 5xx"),
        ("restart-state", "the integration was not restarted"),
    ],
)
def test_production_checks_skip_with_the_reason_when_nothing_was_judged(check_id: str, reason: str) -> None:
    result = judge(check_id, Observation("unit", "webhook", None, False))
    assert result.status == "skipped" and reason in result.message


def test_transient_errors_passes_only_when_the_refused_call_later_succeeds() -> None:
    refused = {"kind": "api", "method": "POST", "path": "/documents/d/status", "status": 503, "wall": 1.0}
    accepted = {**refused, "status": 200, "wall": 2.0}
    assert judge("transient-errors", _journal(refused, accepted)).status == "passed"
    failed = judge("transient-errors", _journal(refused))
    assert failed.status == "failed" and "never sent again" in failed.message


def test_the_restart_scenario_is_skipped_when_the_harness_did_not_start_the_integration() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listening:  # "an integration already running"
        port = listening.getsockname()[1]
        result = run(RunConfig(target_url=f"http://127.0.0.1:{port}/webhook", scenarios=[load("restart")], timeout=20))
    (outcome,) = result.scenarios
    assert outcome.status == "skipped"
    # A run of that scenario alone judged nothing: not a pass (exit 2), and the reason is the skip's.
    assert result.exit_code == 2 and result.error == (
        "nothing was judged: every scenario was skipped (the harness did not start the integration "
        "(run with --start), so it cannot restart it)"
    )
    assert all("run with --start" in r.message for r in outcome.results)
