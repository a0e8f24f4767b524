"""Where a replayed run diverges from the run a bundle recorded: checks that changed verdict, documents
confirmed in one run and not the other.

Both sides are JSON reports (reports/data.py), the recorded one read from the bundle's ``report.json``.
A document's fate is read from the report's timeline: its last status report (``confirmed`` or
``reported failure: ...``), else whether the integration fetched it or its PDF (``fetched, never
confirmed``), else ``not fetched``.
The same seed and scenarios generate the same documents, so their uuids match across the two runs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import escape
from typing import Any

NOT_SEEN = "not fetched"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def document_fates(report: dict[str, Any]) -> dict[str, str]:
    """Document uuid -> what became of it in that run, from the report's timeline."""
    fates: dict[str, str] = {}
    for item in report.get("timeline") or []:
        what = str(item.get("what") or "")
        if item.get("kind") == "status-report":
            result = str(item.get("result") or "")
            fates[what] = "confirmed" if result == "success" else f"reported {result}"
        elif item.get("by") == "integration" and what.startswith("GET ") and "documents/" in what:
            for uuid in UUID.findall(what):  # GET /documents/{uuid} or its PDF (/askara-documents/{uuid}/...)
                fates.setdefault(uuid, "fetched, never confirmed")
    return fates


def divergence(recorded: dict[str, Any] | None, replayed: dict[str, Any]) -> dict[str, Any]:
    """The ``divergence`` section of a replay's report (``recorded`` None: the bundle holds no report)."""
    if recorded is None:
        return {"compared": False, "why": "the bundle holds no report.json (an export of a mock judges nothing)",
                "diverged": False, "checks": [], "documents": []}  # fmt: skip
    was = {c["id"]: c for c in recorded.get("checks") or []}
    checks = []
    for check in replayed.get("checks") or []:
        before = was.get(check["id"], {}).get("status", "absent")
        if before != check["status"]:
            checks.append({"id": check["id"], "was": before, "now": check["status"], "message": check["message"]})
    old, new = document_fates(recorded), document_fates(replayed)
    documents = [
        {"uuid": uuid, "was": old.get(uuid, NOT_SEEN), "now": new.get(uuid, NOT_SEEN)}
        for uuid in sorted({*old, *new})
        if old.get(uuid, NOT_SEEN) != new.get(uuid, NOT_SEEN)
    ]
    return {
        "compared": True,
        "recorded": {k: recorded.get(k) for k in ("verdict", "version", "started_at")},
        "replayed": {k: replayed.get(k) for k in ("verdict", "version", "started_at")},
        "diverged": bool(checks or documents) or recorded.get("verdict") != replayed.get("verdict"),
        "checks": checks,
        "documents": documents,
    }


def lines(section: dict[str, Any]) -> list[str]:
    """The divergence in plain lines, for the terminal summary."""
    if not section.get("compared"):
        return [f"divergence: not compared: {section.get('why')}"]
    head = f"divergence from the recorded run ({section['recorded']['verdict']} -> {section['replayed']['verdict']})"
    if not section["diverged"]:
        return [f"{head}: none, every check and document as recorded"]
    out = [f"{head}:"]
    out += [f"  check {c['id']}: {c['was']} -> {c['now']}  {c['message']}" for c in section["checks"]]
    out += [f"  document {d['uuid']}: {d['was']} -> {d['now']}" for d in section["documents"]]
    return out


def junit_suite(section: dict[str, Any]) -> ET.Element:
    """A JUnit testsuite ``divergence``: one case per check that changed verdict, failed when it regressed."""
    changed = section.get("checks") or []
    regressions = [c for c in changed if c["now"] == "failed"]
    suite = ET.Element("testsuite", name="divergence", tests=str(len(changed)), failures=str(len(regressions)),
                       errors="0", skipped="0", time="0")  # fmt: skip
    for check in changed:
        case = ET.SubElement(suite, "testcase", classname="conformance.divergence", name=check["id"])
        if check["now"] == "failed":
            ET.SubElement(case, "failure", message=f"regressed: {check['was']} -> failed: {check['message']}",
                          type="regression").text = check["message"]  # fmt: skip
        ET.SubElement(case, "system-out").text = f"{check['was']} -> {check['now']}"
    ET.SubElement(suite, "system-out").text = "\n".join(lines(section))
    return suite


def html_section(section: dict[str, Any]) -> str:
    """The divergence as a section of the HTML report (its badges use the report's styles)."""
    if not section.get("compared"):
        return f"<h2>Divergence</h2><p class='muted'>not compared: {escape(str(section.get('why')))}</p>"
    badge = "failed" if any(c["now"] == "failed" for c in section["checks"]) else "passed"
    rows = [
        f"<tr><td>check {escape(c['id'])}</td><td>{escape(c['was'])}</td><td>{escape(c['now'])}</td>"
        f"<td>{escape(c['message'])}</td></tr>"
        for c in section["checks"]
    ] + [
        f"<tr><td>document {escape(d['uuid'])}</td><td>{escape(d['was'])}</td><td>{escape(d['now'])}</td><td></td></tr>"
        for d in section["documents"]
    ]
    was, now = (escape(str(section[side]["verdict"])) for side in ("recorded", "replayed"))
    head = f"<h2>Divergence from the recorded run <span class='badge {badge}'>{was} → {now}</span></h2>"
    if not rows:
        return head + "<p>none: every check and document as recorded</p>"
    return head + "<table><tr><th>what</th><th>was</th><th>now</th><th>result</th></tr>" + "".join(rows) + "</table>"
