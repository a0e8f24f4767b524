"""The reports of a run, as a CI or a support engineer gets them from the real CLI: the JSON
contract (every check by id with its status and evidence), JUnit XML (one testcase per check and
scenario, failures with the message), a single-file HTML report, and the live terminal output.

One failing run (the reference with ``never-confirm`` on ``basics``) feeds most tests; one run that
could not be made shows the reports still say why (both made once per session by conftest.py;
test_conformance_run reads them too); one passing run of the reference that registers its own
webhook, against a mock holding a plain-http webhook, shows the warnings (assumptions the
integration relied on, flagged webhooks) in every report without changing the exit status, and a
fabricated result proves the report builders on their own.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import cli_log, cli_run, conformance_cli, reference_command
from jsonschema import Draft202012Validator
from rich.console import Console

from conformance.checks import CHECKS, CheckResult
from conformance.reports.data import to_dict
from conformance.reports.html import render
from conformance.reports.junit import to_xml
from conformance.reports.terminal import print_summary
from conformance.run_warnings import ReliedAssumption, RunWarnings, WebhookWarning
from conformance.runner import RunConfig, RunResult
from conformance.scenario import load
from mock_server.core.settings import Settings
from mock_server.serving import free_port, serve_in_thread

pytestmark = pytest.mark.e2e  # every test here runs real processes on loopback

BASICS_CHECKS = load("basics").checks

CHECK_SCHEMA = {
    "type": "object",
    "required": ["id", "title", "status", "message", "scenarios", "evidence"],
    "properties": {
        "id": {"enum": list(CHECKS)},
        "title": {"type": "string", "minLength": 1},
        "status": {"enum": ["passed", "failed", "skipped"]},
        "message": {"type": "string", "minLength": 1},
        "scenarios": {"type": "array", "items": {"type": "string"}},
        "evidence": {"type": "array", "items": {"type": "object"}},
    },
}
REPORT_SCHEMA = {
    "type": "object",
    "required": [
        "tool", "version", "verdict", "exit_code", "error", "started_at", "duration_s", "target_url", "mode",
        "summary", "checks", "scenarios", "warnings", "integration", "timeline",
    ],
    "properties": {
        "tool": {"const": "askara-mock"},
        "version": {"type": "string"},
        "verdict": {"enum": ["passed", "failed", "error"]},
        "exit_code": {"enum": [0, 1, 2]},
        "error": {"type": ["string", "null"]},
        "duration_s": {"type": "number", "minimum": 0},
        "mode": {"enum": ["webhook", "polling"]},
        "summary": {
            "type": "object",
            "required": ["passed", "failed", "skipped"],
            "additionalProperties": {"type": "integer", "minimum": 0},
        },
        "checks": {"type": "array", "items": CHECK_SCHEMA},
        "scenarios": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "source", "status", "duration_s", "problems", "checks"],
                "properties": {
                    "status": {"enum": ["passed", "failed", "skipped", "error"]},
                    "problems": {"type": "array", "items": {"type": "string"}},
                    "checks": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["check", "status", "message", "evidence", "scenario"],
                            "properties": {"status": {"enum": ["passed", "failed", "skipped"]}},
                        },
                    },
                },
            },
        },
        "timeline": {"type": "array", "items": {"type": "object", "required": ["wall", "kind", "what", "result"]}},
        "warnings": {
            "type": "object",
            "required": ["assumptions", "webhooks"],
            "properties": {
                "assumptions": {"type": "array", "items": {
                    "type": "object",
                    "required": ["id", "count", "requests", "text", "source", "leniency", "verify", "docs"],
                    "properties": {
                        "count": {"type": "integer", "minimum": 1},
                        "requests": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["journal_id", "method", "path", "status"]}},
                    },
                }},
                "webhooks": {"type": "array", "items": {
                    "type": "object", "required": ["uuid", "url", "active", "warnings"],
                    "properties": {"warnings": {"type": "array", "minItems": 1, "items": {"type": "string"}}},
                }},
            },
        },
    },
}  # fmt: skip


@dataclass
class Reports:
    out: Path
    exit_code: int
    terminal: str
    data: dict[str, Any]
    junit: ET.Element
    html: str


def read_reports(out: Path) -> Reports:
    exit_code, terminal, _args = cli_run(out)
    reports = out / "reports"
    return Reports(
        out,
        exit_code,
        terminal,
        json.loads((reports / "report.json").read_text(encoding="utf-8")),
        ET.parse(reports / "junit.xml").getroot(),
        (reports / "report.html").read_text(encoding="utf-8"),
    )


@pytest.fixture(scope="module")
def failed_run(never_confirm_run: Path) -> Reports:
    """The reference with never-confirm on basics (conftest: one run per session, shared with
    test_conformance_run's exit-1 test)."""
    return read_reports(never_confirm_run)


@pytest.fixture(scope="module")
def not_run(nothing_listens_run: Path) -> Reports:
    return read_reports(nothing_listens_run)


def check(data: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in data["checks"] if c["id"] == check_id)


def test_the_json_report_follows_the_contract(failed_run: Reports) -> None:
    data = failed_run.data
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(REPORT_SCHEMA).iter_errors(data)]
    assert not errors, errors
    assert failed_run.exit_code == data["exit_code"] == 1
    assert data["verdict"] == "failed"
    assert [c["id"] for c in data["checks"]] == list(CHECKS)  # every check, once, by id
    counts = {s: sum(1 for c in data["checks"] if c["status"] == s) for s in ("passed", "failed", "skipped")}
    assert data["summary"] == counts


def test_the_json_report_carries_the_failed_checks_evidence(failed_run: Reports) -> None:
    data = failed_run.data
    failed = check(data, "always-confirm")
    assert failed["status"] == "failed"
    assert failed["scenarios"] == ["basics"]
    assert "got no POST /documents/{uuid}/status" in failed["message"]
    assert failed["evidence"], "a failure must carry its evidence"
    delivered = {r for t in data["timeline"] if t["kind"] == "delivery" for r in re.findall(r"dlv_\w+", t["what"])}
    assert delivered
    # Checks nothing fed are skipped with the reason; those that held are passed with what was seen.
    assert check(data, "dedupe") == {**check(data, "dedupe"), "status": "skipped", "evidence": []}
    assert "no scenario in this run feeds this check" in check(data, "dedupe")["message"]
    assert check(data, "ack-within-5s")["status"] == "passed"
    (scenario,) = data["scenarios"]
    assert scenario["name"] == "basics" and scenario["status"] == "failed"
    # The wait for the reports ran out (the run's --timeout cut it short): said, with the documents.
    (missed,) = [w for w in scenario["missed_waits"] if w["until"] == "status-reports"]
    assert len(missed["missing"]) == 2 and "the run's --timeout, 5 s" in missed["limit"]
    assert missed["missed_wait"] in scenario["problems"] and "none came by" in missed["missed_wait"]
    assert [c["check"] for c in scenario["checks"]] == BASICS_CHECKS


def test_the_junit_report_has_one_testcase_per_check_and_scenario(failed_run: Reports) -> None:
    suites = failed_run.junit
    assert suites.tag == "testsuites"
    (suite,) = [s for s in suites.findall("testsuite") if s.get("name") != "warnings"]
    assert suite.get("name") == "basics"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == BASICS_CHECKS
    assert {c.get("classname") for c in cases} == {"conformance.basics"}
    assert suite.get("tests") == str(len(BASICS_CHECKS)) and suite.get("failures") == "1"
    failures = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert list(failures) == ["always-confirm"]
    failure = failures["always-confirm"]
    assert failure is not None
    assert "got no POST /documents/{uuid}/status" in (failure.get("message") or "")
    assert json.loads(failure.text or "null"), "the failure's text is its evidence"
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert skipped == ["honest-confirm"]  # nothing was confirmed, so nothing to judge honest


def test_the_html_report_is_one_file_with_the_failure_and_the_timeline(failed_run: Reports) -> None:
    html = failed_run.html
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    # A single file: no stylesheet, script or image fetched from anywhere.
    assert not re.search(r"<(link|script|img)\b", html, re.I)
    assert not re.search(r"""(src|href)=['"]?https?:""", html, re.I)
    failed_section = html.split("<h2>Failed checks</h2>", 1)[1].split("<h2>", 1)[0]
    assert "always-confirm" in failed_section
    evidence = check(failed_run.data, "always-confirm")["evidence"]
    for value in (v for item in evidence for v in item.values() if isinstance(v, str)):
        assert escape(value) in failed_section  # the evidence, as (escaped) text
    timeline = html.split("<h2>Timeline</h2>", 1)[1]
    assert "POST /oauth2/token" in timeline and "GET /askara-documents/" in timeline
    assert "dlv_" in timeline and "(harness)" in timeline
    assert timeline.count("<tr>") == len(failed_run.data["timeline"]) + 1


def test_the_summary_goes_to_stdout_as_plain_text_and_the_progress_to_stderr(failed_run: Reports) -> None:
    """Piped (not a terminal), the summary is plain text: one line per check, no box drawing."""
    log = cli_log(failed_run.out).splitlines()
    assert log[0] == "› scenario basics ..."
    assert re.fullmatch(r"› scenario basics: failed \(\d+\.\d\d s\)", log[1])
    assert any(re.match(r"› scenario basics: step 3 waited .* none came by", line) for line in log), log
    assert any(line.startswith("wrote ") and line.endswith("report.html") for line in log)
    assert "askara-mock conformance" not in "\n".join(log)  # results are not logs
    table = failed_run.terminal
    assert table.splitlines()[0] == "askara-mock conformance"
    assert not re.search("[┃│━─┏┡└]", table) and "\x1b[" not in table
    for check_id in CHECKS:
        assert re.search(rf"^  {re.escape(check_id)}\s+(passed|failed|skipped)\s+\S", table, re.M), check_id
    # Messages are shown as written, with the scenario they came from.
    assert "[basics] 2 of 2 delivered documents got no POST /documents/{uuid}/status" in table
    summary = failed_run.data["summary"]  # the same counts as the JSON report, one failure (always-confirm)
    assert summary["failed"] == 1 and sum(summary.values()) == len(CHECKS)
    counts = f"{summary['passed']} passed, 1 failed, {summary['skipped']} skipped"
    assert re.search(rf"^FAILED: {counts} in \d+\.\d s$", table, re.M)


def test_a_run_that_could_not_be_made_still_reports_why(not_run: Reports) -> None:
    assert not_run.exit_code == 2
    assert not_run.data["verdict"] == "error" and not_run.data["exit_code"] == 2
    assert "nothing listens on" in not_run.data["error"]
    errors = [e.message for e in Draft202012Validator(REPORT_SCHEMA).iter_errors(not_run.data)]
    assert not errors, errors
    error = not_run.junit.find("testsuite/testcase/error")
    assert error is not None and "nothing listens on" in (error.get("message") or "")
    assert "The run could not be made" in not_run.html and "nothing listens on" in not_run.html
    assert "The run could not be made: nothing listens on" in not_run.terminal


# -- warnings: assumptions relied on, flagged webhooks -------------------------------------------

FLAGGED_URL = "http://hooks.example.org/askara"


@pytest.fixture(scope="module")
def warned_run(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    """The correct reference, registering its own webhook, on a mock that also holds a plain-http webhook."""
    out = tmp_path_factory.mktemp("warned-run")
    settings = Settings(port=0, clock="real", rate_limit_interval=1, seed=1)
    with serve_in_thread(settings) as running:
        with httpx.Client(base_url=running.url, headers={"User-Agent": "vendor-setup/1.0"}) as http:
            creds = http.get("/_mock/credentials").json()
            headers = {"Authorization": f"Bearer {creds['access_token']}"}
            body = {"url": FLAGGED_URL, "events": ["new_document"], "active": False}
            assert http.post("/webhooks", json=body, headers=headers).status_code == 201
        port = free_port()
        target = f"http://127.0.0.1:{port}/webhook"
        start = reference_command(port, out / "data") + f" --register-webhook {target}"
        conformance_cli(
            out, "--target-url", target, "--start", start, "--scenario", "basics", "--no-register",
            "--mock-url", running.url, "--timeout", "20",
        )  # fmt: skip
    return read_reports(out)


def test_warnings_name_what_the_integration_relied_on_without_failing_the_run(warned_run: Reports) -> None:
    data = warned_run.data
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(REPORT_SCHEMA).iter_errors(data)]
    assert not errors, errors
    assert warned_run.exit_code == data["exit_code"] == 0 and data["verdict"] == "passed"
    relied = {a["id"]: a for a in data["warnings"]["assumptions"]}
    # Its own POST /webhooks, and the answers to its status reports.
    expected = {"webhook-create-answer", "webhook-organization-scope", "document-status-answer",
                "document-extra-fields"}  # fmt: skip
    assert expected <= set(relied), relied
    status = relied["document-status-answer"]
    assert status["count"] == len(status["requests"]) == 2  # basics: two documents, one report each
    assert all(r["method"] == "POST" and r["path"].endswith("/status") for r in status["requests"])
    assert status["verify"] and status["docs"] == "docs/assumptions.md#document-status-answer"
    (create,) = relied["webhook-create-answer"]["requests"]
    assert create["method"] == "POST" and create["path"] == "/webhooks" and create["status"] == 201
    # The harness's own calls (GET /webhooks to find the integration's webhook, ...) are not the integration's.
    assert "webhook-crud" not in relied
    (flagged,) = data["warnings"]["webhooks"]
    assert flagged["url"] == FLAGGED_URL and flagged["active"] is False
    assert flagged["warnings"][0].startswith("plain-http: ")


def test_warnings_are_skipped_testcases_in_junit_and_sections_in_html_and_the_terminal(warned_run: Reports) -> None:
    (suite,) = [s for s in warned_run.junit.findall("testsuite") if s.get("name") == "warnings"]
    assert suite.get("failures") == "0" and suite.get("skipped") == suite.get("tests")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    status = cases["document-status-answer"]
    assert status.get("classname") == "conformance.assumptions"
    skipped = status.find("skipped")
    assert skipped is not None and "verify:" in (skipped.get("message") or "")
    assert "POST /documents/" in (status.findtext("system-out") or "")
    (webhook,) = [c for c in suite.findall("testcase") if c.get("classname") == "conformance.webhooks"]
    assert FLAGGED_URL in (webhook.get("name") or "")
    html = warned_run.html
    section = html.split("<h2>Relied on assumptions</h2>", 1)[1].split("<h2>", 1)[0]
    assert "document-status-answer" in section and "POST /documents/" in section
    assert FLAGGED_URL in html.split("<h2>Webhook warnings</h2>", 1)[1].split("<h2>", 1)[0]
    terminal = warned_run.terminal
    assert "relied on assumptions (warnings: verify in Askara's staging)" in terminal
    assert re.search(r"^  document-status-answer: 2: #\d+ POST /documents/", terminal, re.M)
    assert f"warning: webhook {flagged_uuid(warned_run)} {FLAGGED_URL}: plain-http" in terminal
    assert re.search(r"^PASSED: ", terminal, re.M)


def flagged_uuid(run: Reports) -> str:
    return str(run.data["warnings"]["webhooks"][0]["uuid"])


def fabricated() -> RunResult:
    warnings = RunWarnings(
        [ReliedAssumption(
            "webhook-crud", 5, [{"journal_id": 7, "method": "DELETE", "path": "/webhooks/x", "status": 204}],
            text="GET/PUT/PATCH/DELETE /webhooks follow API Platform conventions.", source="API Platform defaults",
            leniency="equal", verify="that Askara offers them <really>", docs="docs/assumptions.md#webhook-crud",
        )],
        [WebhookWarning("wh-1", "http://hooks.example.org/a", True, ["plain-http: not https"])],
    )  # fmt: skip
    checks = [CheckResult(check_id, "passed", "held", [], "basics") for check_id in CHECKS]
    return RunResult(
        RunConfig("http://127.0.0.1:9/webhook", []), "passed", 0, checks, [], 1_780_000_000.0, 1.5, warnings=warnings
    )


def test_the_report_builders_render_fabricated_warnings() -> None:
    result = fabricated()
    data = to_dict(result)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(REPORT_SCHEMA).iter_errors(data)]
    assert not errors, errors
    assert data["exit_code"] == 0 and data["summary"]["failed"] == 0  # warnings change nothing
    assert data["warnings"]["assumptions"][0]["requests"] == [
        {"journal_id": 7, "method": "DELETE", "path": "/webhooks/x", "status": 204}
    ]
    suites = to_xml(result)
    (suite,) = suites.findall("testsuite")
    assert suite.get("name") == "warnings" and suite.get("tests") == "2" and suite.get("skipped") == "2"
    assert [c.get("classname") for c in suite] == ["conformance.assumptions", "conformance.webhooks"]
    assert not suite.findall(".//failure") and not suite.findall(".//error")
    html = render(result)
    assert "that Askara offers them &lt;really&gt;" in html and "<really>" not in html  # escaped
    assert "#7 DELETE /webhooks/x" in html and "5 in all" in html
    console = Console(record=True, width=200)
    print_summary(result, console)
    text = console.export_text()
    assert "webhook-crud" in text and "5: #7 DELETE /webhooks/x (+2 more)" in text
    assert "warning: webhook wh-1 http://hooks.example.org/a: plain-http: not https" in text


def test_a_run_without_warnings_has_no_warning_sections() -> None:
    result = fabricated()
    result.warnings = RunWarnings()
    assert to_dict(result)["warnings"] == {"assumptions": [], "webhooks": []}
    assert not to_xml(result).findall("testsuite")
    assert "Relied on assumptions" not in render(result) and "Webhook warnings" not in render(result)
