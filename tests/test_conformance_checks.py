"""Every conformance check proved both ways: the correct reference integration passes it, and the
variant with the one defect that targets it fails it, with the defect named in the report.

Each run is real: a mock served by uvicorn on loopback, the reference integration as its own
process receiving real webhooks, the harness judging from the mock's control API. The correct
reference's run of the whole suite goes through the CLI, once per session (conftest.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conformance.checks import CHECKS
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
    assert got["polling-interval"] == "passed", message(result, "polling-interval")
    assert got["always-confirm"] == "passed", message(result, "always-confirm")
    assert result.exit_code == 0


BROKEN = [
    # defect, scenario, the check it must fail, words the report must use, mode, signatures
    ("slow-ack", "basics", "ack-within-5s", "not answered 2xx within 5 s", "webhook", False),
    ("fail-first", "retry", "retry-recovery", "imported exactly once", "webhook", False),
    ("no-dedupe", "duplicates", "dedupe", "deduplicate by uuid", "webhook", False),
    ("silent-failure", "download-failure", "confirm-failure", "no status report at all", "webhook", False),
    ("never-confirm", "basics", "always-confirm", "got no POST /documents/{uuid}/status", "webhook", False),
    ("dishonest-confirm", "download-failure", "honest-confirm", "without a whole PDF download", "webhook", False),
    ("ignore-expiry", "expired-link", "expired-url", "never called GET /documents/", "webhook", False),
    ("no-refresh", "token-expiry", "token-refresh", "never refreshed", "webhook", False),
    ("reuse-refresh-token", "token-expiry", "refresh-rotation", "already spent", "webhook", False),
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


def test_every_check_has_a_defect_that_fails_it() -> None:
    assert {row[2] for row in BROKEN} == set(CHECKS)
