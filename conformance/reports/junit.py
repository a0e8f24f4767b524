"""JUnit XML: one testsuite per scenario, one testcase per check it feeds, readable by any CI.

A testcase's ``time`` is its scenario's time shared equally among the checks it feeds (they are all
judged from one play, so the cases add up to the suite). A wait that ran out fails the cases it fed,
with what never came (or how late) in the failure's message; the suite's ``system-out`` repeats the
scenario's problems.

The run's warnings are a last testsuite, ``warnings``: one *skipped* testcase per assumption the
integration relied on (``conformance.assumptions``, the reason says what to verify, the requests
are its ``system-out``) and per flagged webhook (``conformance.webhooks``). Skipped, so a CI shows
them without failing the build: the exit status never depends on them.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.runner import RunResult


def to_xml(result: RunResult) -> ET.Element:
    suites = ET.Element("testsuites", name="askara-mock conformance", time=f"{result.duration_s:.3f}")
    if result.error:
        suite = ET.SubElement(suites, "testsuite", name="run", tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname="run", name="run", time=f"{result.duration_s:.3f}")
        ET.SubElement(case, "error", message=result.error).text = result.error
    for outcome in result.scenarios:
        counts = {s: sum(1 for r in outcome.results if r.status == s) for s in ("failed", "skipped")}
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=outcome.name,
            tests=str(len(outcome.results)),
            failures=str(counts["failed"]),
            errors="0",
            skipped=str(counts["skipped"]),
            time=f"{outcome.duration_s:.3f}",
        )
        share = f"{outcome.duration_s / max(1, len(outcome.results)):.3f}"
        for result_ in outcome.results:
            case = ET.SubElement(
                suite, "testcase", classname=f"conformance.{outcome.name}", name=result_.check, time=share
            )
            if result_.status == "failed":
                failure = ET.SubElement(case, "failure", message=result_.message, type=result_.check)
                failure.text = json.dumps(result_.evidence, indent=2, default=str)
            elif result_.status == "skipped":
                ET.SubElement(case, "skipped", message=result_.message)
        if outcome.problems:
            ET.SubElement(suite, "system-out").text = "\n".join(outcome.problems)
    _warnings(suites, result)
    return suites


def _warnings(suites: ET.Element, result: RunResult) -> None:
    relied, webhooks = result.warnings.assumptions, result.warnings.webhooks
    total = len(relied) + sum(len(w.warnings) for w in webhooks)
    if not total:
        return
    suite = ET.SubElement(
        suites, "testsuite", name="warnings", tests=str(total), failures="0", errors="0", skipped=str(total), time="0"
    )
    for item in relied:
        case = ET.SubElement(suite, "testcase", classname="conformance.assumptions", name=item.id)
        reason = f"relied on an assumption ({item.text}) in {item.count} request(s); verify: {item.verify}"
        ET.SubElement(case, "skipped", message=reason, type="assumption")
        lines = [f"#{r['journal_id']} {r['method']} {r['path']} -> {r['status']}" for r in item.requests]
        ET.SubElement(case, "system-out").text = "\n".join([f"source: {item.source} ({item.leniency})", *lines])
    for hook in webhooks:
        for warning in hook.warnings:
            case = ET.SubElement(suite, "testcase", classname="conformance.webhooks", name=f"{hook.uuid} {hook.url}")
            ET.SubElement(case, "skipped", message=warning, type="webhook-url")


def write_junit(result: RunResult, path: str | Path) -> None:
    tree = ET.ElementTree(to_xml(result))
    ET.indent(tree)
    tree.write(Path(path), encoding="utf-8", xml_declaration=True)
