"""The harness never passes what it did not judge, says why nothing happened, and reports for people and CI.

Judges on hand-written observations (each rule both ways), the reports on fabricated results, the
uvicorn log filter on a live mock, and one real run that judges nothing (exit 2).
"""

from __future__ import annotations

import io
import logging
import re
import sys
import time
from pathlib import Path

import httpx
import pytest

from conformance.checks import CheckResult, judge
from conformance.observation import FaultFact, Observation
from conformance.plugin import assert_conformant
from conformance.reports.data import to_dict
from conformance.reports.html import render
from conformance.reports.junit import to_xml
from conformance.reports.plain import write_plain
from conformance.reports.terminal import print_result
from conformance.runner import EXIT_NOT_RUN, RunConfig, RunResult, ScenarioOutcome, nothing_judged, run
from conformance.scenario import load
from conformance.verdict import verdict_of
from conformance.waits import MissedWait, apply, resolve
from mock_server.files.answers import INCOMPLETE_RESPONSE, PurposefulCutFilter
from mock_server.serving import free_port

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "integrations" / "reference.py"
DOC = "0b9a6a4e-1111-4000-8000-000000000001"
DELIVERY = {"id": "dlv_1", "resource_ids": [DOC], "actions": ["new_document"], "state": "delivered",
            "attempts": [{"n": 1, "status": 200, "latency_ms": 3, "wall": 100.0}]}  # fmt: skip


def observed(**facts: object) -> Observation:
    return Observation("unit", "webhook", "wh", False, **facts)  # type: ignore[arg-type]


# -- never pass what was not judged ----------------------------------------------------------------


def outcome(name: str, *statuses: str) -> ScenarioOutcome:
    results = [CheckResult("always-confirm", s, f"{s} here", [], name) for s in statuses]  # type: ignore[arg-type]
    return ScenarioOutcome(name, f"{name}.yaml", "passed", 0.1, results, [])


def test_a_run_with_no_scenario_or_only_skips_judged_nothing() -> None:
    assert "no scenario was given and the standard suite is empty" in (nothing_judged([], []) or "")
    skipped = [CheckResult("always-confirm", "skipped", "why", [], "")]
    assert "every check was skipped in basics" in (nothing_judged([outcome("basics", "skipped")], skipped) or "")
    passed = [CheckResult("always-confirm", "passed", "ok", [], "basics")]
    assert nothing_judged([outcome("basics", "passed")], passed) is None


def unjudged_result() -> RunResult:
    checks = [CheckResult("always-confirm", "skipped", "no document was delivered", [], "")]
    error = nothing_judged([outcome("basics", "skipped")], checks)
    return RunResult(RunConfig("http://127.0.0.1:9/w", []), "error", EXIT_NOT_RUN, checks,
                     [outcome("basics", "skipped")], time.time(), 1.0, error=error)  # fmt: skip


def test_nothing_judged_is_said_in_every_report() -> None:
    result = unjudged_result()
    data = to_dict(result)
    assert data["exit_code"] == 2 and data["verdict"] == "error" and data["error"].startswith("nothing was judged")
    error = to_xml(result).find("testsuite/testcase/error")
    assert error is not None and (error.get("message") or "").startswith("nothing was judged")
    assert "Not a pass: nothing was judged" in render(result)
    out = io.StringIO()
    write_plain(result, out)
    text = out.getvalue()
    assert text.startswith("NOT A PASS, nothing was judged") and "\nNOTHING JUDGED: 0 passed, 0 failed" in text


def test_assert_conformant_fails_a_run_that_judged_nothing() -> None:
    with pytest.raises(pytest.fail.Exception, match="not a pass, nothing was judged"):
        assert_conformant(unjudged_result())


@pytest.mark.e2e
def test_a_run_without_scenarios_exits_2_not_0(tmp_path: Path) -> None:
    """As a wheel without its scenarios did: "PASSED: 0 passed, 0 failed, 18 skipped", exit 0."""
    port = free_port()
    start = f"{sys.executable} {REFERENCE} --port {port} --data-dir {tmp_path}"
    result = run(RunConfig(f"http://127.0.0.1:{port}/webhook", [], start=start, timeout=30))
    assert result.exit_code == EXIT_NOT_RUN and result.verdict == "error"
    assert (result.error or "").startswith("nothing was judged: no scenario was given")
    assert all(c.status == "skipped" for c in result.checks)


def test_a_scenario_not_played_whole_is_not_a_pass() -> None:
    passed = [CheckResult("always-confirm", "passed", "ok", [], "basics")]
    cut = ScenarioOutcome("basics", "basics.yaml", "error", 0.1, passed, ["step 2 (fault): refused"])
    assert verdict_of([cut], passed) == (
        "error", EXIT_NOT_RUN,
        "not played whole: scenario basics: step 2 (fault): refused; its checks judged part of its story",
    )  # fmt: skip
    assert verdict_of([outcome("basics", "passed")], passed) == ("passed", 0, None)
    failed = [CheckResult("always-confirm", "failed", "no", [], "basics")]
    assert verdict_of([cut], failed)[:2] == ("failed", 1)  # a failure is said as a failure


CUT_SCENARIO = """\
name: cut-short
seed: 1
checks: [always-confirm]
steps:
  - trigger: {event: new_document, as: docs}
  - wait: {until: status-reports, document: docs}
  - trigger: {event: new_document, document: docs}  # validated already: the mock answers 409
"""


@pytest.mark.e2e
def test_a_run_whose_step_the_mock_refused_exits_2_end_to_end(tmp_path: Path) -> None:
    """The checks passed on what was played; the story was cut: exit 2, naming the step."""
    scenario = tmp_path / "cut.yaml"
    scenario.write_text(CUT_SCENARIO, encoding="utf-8")
    port = free_port()
    start = f"{sys.executable} {REFERENCE} --port {port} --data-dir {tmp_path}"
    result = run(RunConfig(f"http://127.0.0.1:{port}/webhook", [load(str(scenario))], start=start, timeout=40))
    assert [c.status for c in result.checks if c.check == "always-confirm"] == ["passed"]
    assert result.exit_code == EXIT_NOT_RUN and result.verdict == "error", result.error
    assert "not played whole: scenario cut-short: step 3 (trigger)" in (result.error or "")


def test_honest_confirm_skips_without_a_report_and_passes_on_declined_successes() -> None:
    faulted = [FaultFact("download", {"mode": "error"}, DOC)]
    nothing = judge("honest-confirm", observed(faults=faulted))
    assert nothing.status == "skipped" and "no status report to judge" in nothing.message
    declined = judge("honest-confirm", observed(faults=faulted, reports=[{"document_uuid": DOC, "success": False}]))
    assert declined.status == "passed" and "reported success: false" in declined.message
    assert "0 success reports" not in declined.message


def test_token_refresh_skips_an_integration_that_made_no_call_after_expiry() -> None:
    expiry = [FaultFact("expire_tokens", {}, None, {"created_at": 50.0})]
    idle = judge("token-refresh", observed(faults=expiry, journal=[{"kind": "api", "status": 200, "at": 10.0}]))
    assert idle.status == "skipped" and "no API call after the access tokens expired" in idle.message
    assert "0 × 401" not in idle.message
    refused = {"kind": "oauth", "grant_type": "refresh_token", "status": 400, "at": 60.0,
               "refresh_outcome": "unknown", "oauth_error": "invalid_grant"}  # fmt: skip
    tried = judge("token-refresh", observed(faults=expiry, journal=[refused] * 37))
    assert tried.status == "failed" and "tried to refresh 37 time(s)" in tried.message
    assert "invalid_grant" in tried.message and "never" not in tried.message


def test_scopes_and_refresh_rotation_skip_what_they_could_not_judge() -> None:
    refused = [{"kind": "api", "method": "GET", "path": "/me", "status": 401, "auth_outcome": "expired"}] * 2
    scopes = judge("scopes", observed(journal=refused))
    assert scopes.status == "skipped" and "refused 401, before a scope was looked at" in scopes.message
    ok = judge("scopes", observed(journal=[*refused, {"kind": "api", "path": "/me", "status": 200}]))
    assert ok.status == "passed"
    unknown = {"kind": "oauth", "grant_type": "refresh_token", "status": 400, "refresh_outcome": "unknown"}
    rotation = judge("refresh-rotation", observed(journal=[unknown]))
    assert rotation.status == "skipped" and "each with the newest refresh token" not in rotation.message
    rotated = {**unknown, "status": 200, "refresh_outcome": "rotated"}
    both = judge("refresh-rotation", observed(journal=[rotated, unknown]))
    assert both.status == "passed" and "1 refused for other reasons (unknown)" in both.message


# -- waits that ran out ------------------------------------------------------------------------------


def missed(deadline: float) -> MissedWait:
    what = "2 status report(s) (POST /documents/{uuid}/status) for each of 1 document(s)"
    return MissedWait(8, "status-reports", what, 5.0, "its timeout, --wait-timeout", deadline, [DOC], 2,
                      after="document_synchronize")  # fmt: skip


def test_a_missed_wait_fails_the_checks_it_fed_with_what_never_came() -> None:
    first = {"document_uuid": DOC, "success": False, "wall": 101.0}
    observation = observed(deliveries=[DELIVERY], reports=[first], missed_waits=[missed(110.0)])
    resolve(observation)
    results = apply(observation, [judge(c, observation) for c in ("always-confirm", "ack-within-5s", "honest-confirm")])
    by_id = {r.check: r for r in results}
    confirm = by_id["always-confirm"]
    assert confirm.status == "failed", "the one report that did come must not pass it"
    assert "after document_synchronize: none came by" in confirm.message and DOC in confirm.message
    assert confirm.evidence[0]["missing"] == [DOC]
    assert by_id["ack-within-5s"].status == "passed"  # not fed by a status-report wait
    assert by_id["honest-confirm"].status != "failed"  # it judges what reports say, not that they come


def test_a_report_after_the_deadline_is_late_not_missing() -> None:
    reports = [{"document_uuid": DOC, "success": False, "wall": 101.0},
               {"document_uuid": DOC, "success": True, "wall": 112.34}]  # fmt: skip
    observation = observed(deliveries=[DELIVERY], reports=reports, missed_waits=[missed(110.0)])
    observation.step_problems.append(observation.missed_waits[0].problem)
    resolve(observation)
    (result,) = apply(observation, [judge("always-confirm", observation)])
    assert result.status == "failed" and "it came 2.3 s late" in result.message and "none came" not in result.message
    assert observation.step_problems == [observation.missed_waits[0].describe()]


LATE_SCENARIO = """\
name: late-reports
seed: 1
checks: [always-confirm]
steps:
  - fault: {kind: download, mode: delay, latency: 1}
  - trigger: {event: new_document, as: docs}
  - wait: {until: status-reports, document: docs}
  - wait: {until: idle, quiet: 3, timeout: 20}
"""


@pytest.mark.e2e
def test_a_report_after_a_short_wait_timeout_is_reported_late_end_to_end(tmp_path: Path) -> None:
    """--wait-timeout reaches the step: 1 ms is too short for an import whose PDF takes 1 s to come (a
    delayed download, so a fast machine cannot beat the wait), and the report that comes during the
    idle wait is late by about a second, not missing."""
    scenario = tmp_path / "late.yaml"
    scenario.write_text(LATE_SCENARIO, encoding="utf-8")
    port = free_port()
    start = f"{sys.executable} {REFERENCE} --port {port} --data-dir {tmp_path}"
    config = RunConfig(f"http://127.0.0.1:{port}/webhook", [load(str(scenario))], start=start, timeout=40,
                       wait_timeout=0.001)  # fmt: skip
    result = run(config)
    (confirm,) = [c for c in result.checks if c.check == "always-confirm"]
    assert confirm.status == "failed", confirm.message
    assert "(its timeout, --wait-timeout) for 1 status report(s)" in confirm.message
    assert re.search(r"it came \d+\.\d s late \(what did arrive passed", confirm.message), confirm.message
    assert result.scenarios[0].problems == [confirm.evidence[0]["missed_wait"]]


def test_a_report_in_time_but_after_the_last_look_is_no_missed_wait() -> None:
    reports = [{"document_uuid": DOC, "success": False, "wall": 101.0},
               {"document_uuid": DOC, "success": True, "wall": 109.99}]  # fmt: skip
    observation = observed(deliveries=[DELIVERY], reports=reports, missed_waits=[missed(110.0)])
    observation.step_problems.append("timed out")
    observation.missed_waits[0].problem = "timed out"
    resolve(observation)
    assert observation.missed_waits == [] and observation.step_problems == []
    (result,) = apply(observation, [judge("always-confirm", observation)])
    assert result.status == "passed"


# -- messages that name the real cause ---------------------------------------------------------------


def test_always_confirm_tells_never_posted_from_posted_but_refused() -> None:
    refused = {"kind": "api", "method": "POST", "path": f"/documents/{DOC}/status", "status": 422,
               "problem": "success: This value should be of type boolean."}  # fmt: skip
    posted = judge("always-confirm", observed(deliveries=[DELIVERY], journal=[refused]))
    assert posted.status == "failed" and "posted but refused: 422" in posted.message
    assert "of type boolean" in posted.message and "got no POST" not in posted.message
    never = judge("always-confirm", observed(deliveries=[DELIVERY], journal=[{"kind": "api", "status": 200}]))
    assert never.status == "failed" and "got no POST /documents/{uuid}/status" in never.message


def test_batch_events_blames_refused_calls_before_the_loop() -> None:
    batch = {**DELIVERY, "resource_ids": [DOC, "other"], "actions": ["new_document"] * 2}
    refused = [{"kind": "api", "method": "GET", "path": f"/documents/{DOC}", "status": 401, "auth_outcome": "expired"}]
    blocked = judge("batch-events", observed(deliveries=[batch], journal=refused * 3))
    assert "every one of its 3 API call(s) was refused 401 (expired ×3)" in blocked.message
    assert "loop over" not in blocked.message
    lazy = judge("batch-events", observed(deliveries=[batch], journal=[{"kind": "api", "status": 200}],
                                          reports=[{"document_uuid": DOC, "success": True}]))  # fmt: skip
    assert "loop over every entry of events[]" in lazy.message


def test_ack_within_5s_says_refused_not_answer_at_once() -> None:
    refused = {**DELIVERY, "attempts": [{"n": 1, "status": 401, "latency_ms": 2, "response_body": "bad sig"}]}
    result = judge("ack-within-5s", observed(deliveries=[refused]))
    assert result.status == "failed" and "refused by the integration (401" in result.message
    assert "Answer 200 at once" not in result.message and "unsigned" in result.message
    signed = judge("ack-within-5s", Observation("unit", "webhook", "wh", True, deliveries=[refused]))
    assert "genuine and correctly signed" in signed.message
    slow = {**DELIVERY, "attempts": [{"n": 1, "status": 200, "latency_ms": 6000}]}
    assert "Answer 200 at once" in judge("ack-within-5s", observed(deliveries=[slow])).message


# -- output for people and for CI --------------------------------------------------------------------


def failed_result() -> RunResult:
    long = "[basics] " + "a very long message that a table would squeeze into three-character columns " * 4
    checks = [CheckResult("always-confirm", "failed", long, [], "basics"),
              CheckResult("ack-within-5s", "passed", "[basics] 2 attempts answered 2xx", [], "basics")]  # fmt: skip
    scenario = ScenarioOutcome("basics", "b.yaml", "failed", 4.0, checks, ["step 3 waited 5 s for x: none came"])
    return RunResult(RunConfig("http://127.0.0.1:9/w", []), "failed", 1, checks, [scenario], time.time(), 4.0)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_piped_output_is_plain_and_fits_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = io.StringIO()
    print_result(failed_result(), piped)
    text = piped.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "\x1b[" not in text and "│" not in text
    assert "  always-confirm" in text and "three-character columns" in text
    assert "waits that ran out, and other problems:\n  [basics] step 3 waited 5 s for x: none came" in text
    assert text.rstrip().endswith("FAILED: 1 passed, 1 failed, 0 skipped in 4.0 s")
    tty = Tty()
    print_result(failed_result(), tty)
    assert "┃" in tty.getvalue()  # a terminal gets the table


def test_junit_cases_carry_their_time_and_a_missed_wait_in_the_failing_case() -> None:
    result = failed_result()
    result.checks[0].evidence = [{"missed_wait": "step 3 waited 5 s for x: none came"}]
    (suite,) = to_xml(result).findall("testsuite")
    times = [float(c.get("time") or "nan") for c in suite.findall("testcase")]
    assert times == [2.0, 2.0] and sum(times) == float(suite.get("time") or 0)
    failure = suite.find("testcase/failure")
    assert failure is not None and "none came" in (failure.text or "")


def test_the_cut_on_purpose_is_not_logged_as_an_error(live_mock) -> None:  # type: ignore[no-untyped-def]
    """uvicorn's "returned without completing response" for the truncate fault is dropped; any other cause stays."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.error")
    mock = live_mock()  # before the handler: uvicorn's logging config drops the handlers it finds
    logger.addHandler(handler)
    try:
        with httpx.Client(base_url=mock.url) as http:
            doc = http.post("/_mock/documents", json={"validate": True}).json()["document"]
            fault = {"kind": "download", "mode": "truncate", "count": 5, "document": doc["uuid"]}
            assert http.post("/_mock/faults", json=fault).status_code < 300
            bearer = {"Authorization": f"Bearer {http.get('/_mock/credentials').json()['access_token']}"}
            url = http.get(f"/documents/{doc['uuid']}", headers=bearer).json()["pdf"]["url"]
            with pytest.raises(httpx.HTTPError):
                httpx.get(url)  # the body is cut: the client's read fails
            journal = http.get("/_mock/journal").json()
        assert any(e.get("fault") == "truncate" for e in journal.get("entries", journal))
        # uvicorn logs before it closes the connection, so the client's failed read came after the log.
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if str(r.msg).startswith(INCOMPLETE_RESPONSE)]
    other = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, INCOMPLETE_RESPONSE + ".", None, None)
    assert PurposefulCutFilter().filter(other), "the same message for another cause still shows"
