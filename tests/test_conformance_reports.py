"""The reports of a run, as a CI or a support engineer gets them from the real CLI: the JSON
contract (every check by id with its status and evidence), JUnit XML (one testcase per check and
scenario, failures with the message), a single-file HTML report, and the live terminal output.

One failing run (the reference with ``never-confirm`` on ``basics``) feeds most tests; one run that
could not be made shows the reports still say why. Both are made once per session by conftest.py
(test_conformance_run reads them too).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import cli_run
from jsonschema import Draft202012Validator

from conformance.checks import CHECKS
from conformance.scenario import load

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
        "summary", "checks", "scenarios", "integration", "timeline",
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
    },
}  # fmt: skip


@dataclass
class Reports:
    exit_code: int
    terminal: str
    data: dict[str, Any]
    junit: ET.Element
    html: str


def read_reports(out: Path) -> Reports:
    exit_code, terminal, _args = cli_run(out)
    reports = out / "reports"
    return Reports(
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
    assert [c["check"] for c in scenario["checks"]] == BASICS_CHECKS


def test_the_junit_report_has_one_testcase_per_check_and_scenario(failed_run: Reports) -> None:
    suites = failed_run.junit
    assert suites.tag == "testsuites"
    (suite,) = suites.findall("testsuite")
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
        assert value in failed_section  # the evidence, as text
    timeline = html.split("<h2>Timeline</h2>", 1)[1]
    assert "POST /oauth2/token" in timeline and "GET /files/documents/" in timeline
    assert "dlv_" in timeline and "(harness)" in timeline
    assert timeline.count("<tr>") == len(failed_run.data["timeline"]) + 1


def test_the_terminal_shows_live_progress_and_the_summary_table(failed_run: Reports) -> None:
    lines = failed_run.terminal.splitlines()
    assert lines[0] == "› scenario basics ..."
    assert re.fullmatch(r"› scenario basics: failed \(\d+\.\d\d s\)", lines[1])
    table = "\n".join(lines)
    assert re.search(r"check\s+┃\s+status\s+┃\s+result", table)
    for check_id in CHECKS:
        assert re.search(rf"│ {re.escape(check_id)}\s+│ (passed|failed|skipped)\s+│", table), check_id
    # Messages are shown as written, with the scenario they came from.
    assert "[basics] 2 of 2 delivered documents got no POST /documents/{uuid}/status" in table
    assert re.search(r"^FAILED: 3 passed, 1 failed, 14 skipped in \d+\.\d s$", table, re.M)
    assert any(line.startswith("wrote ") and line.endswith("report.html") for line in lines)


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
