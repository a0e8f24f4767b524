"""``GET /_mock/har`` and ``askara-mock har``: the two-way transcript in HAR 1.2.

Proved here: every API call, OAuth exchange, PDF download and webhook attempt (answered and
refused) is an entry, in time order, with the ``_askara`` vendor fields; the file passes a
third-party HAR 1.2 validator (npm ``har-validator``, run by node), the checks Chromium's
DevTools importer makes (``front_end/models/har/HARFormat.ts``), and Chromium's importer itself,
run in the DevTools front end Debian's chromium bundles (Playwright); secrets are redacted unless
``redact=false``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import CLI, ROOT
from support_story import play, receiver, refused_url
from test_ui_browser import browser  # noqa: F401 (the fixture: Debian's chromium through Playwright)

from mock_server.serving import RunningMock

TOOLS = ROOT / "tests" / "tools"
WEBHOOK_SECRET = "whsec_" + "c3VwcG9ydC10b29sa2l0LXRlc3Qtc2VjcmV0LWtleQ=="


def validate_with_har_validator(path: Path) -> subprocess.CompletedProcess[str]:
    """npm's har-validator over ``path``; CI installs it (.ci/run), elsewhere the test says how."""
    if not (TOOLS / "node_modules" / "har-validator").is_dir() or shutil.which("node") is None:
        if os.environ.get("CI"):
            pytest.fail("har-validator is not installed: .ci/run must run `npm ci --prefix tests/tools`")
        pytest.skip("run `npm ci --prefix tests/tools` (needs node) to validate HAR files with har-validator")
    return subprocess.run(
        ["node", str(TOOLS / "validate-har.js"), str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def devtools_problems(har: dict[str, Any]) -> list[str]:
    """What Chromium's HAR importer (HARFormat.ts) refuses: it throws on a non-object part, a
    ``log.entries`` that is not an array, a date ``new Date()`` cannot read, or a number field
    (``time``, ``headersSize``, ``bodySize``, ``status``, ``content.size``, ``timings.send|wait|receive``)
    that ``Number()`` turns into NaN."""
    problems: list[str] = []

    def number(where: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            problems.append(f"{where}: {value!r} is not a number")

    log = har.get("log")
    if not isinstance(log, dict) or not isinstance(log.get("creator"), dict):
        return ["log / log.creator is not an object"]
    if not isinstance(log.get("entries"), list):
        return ["log.entries is not an array"]
    for i, entry in enumerate(log["entries"]):
        missing = [part for part in ("request", "response", "timings") if not isinstance(entry.get(part), dict)]
        problems.extend(f"entries[{i}].{part} is not an object" for part in missing)
        if missing:
            continue
        try:
            datetime.fromisoformat(entry["startedDateTime"].replace("Z", "+00:00"))
        except (KeyError, ValueError, AttributeError):
            problems.append(f"entries[{i}].startedDateTime is not a date")
        number(f"entries[{i}].time", entry.get("time"))
        for side in ("request", "response"):
            number(f"entries[{i}].{side}.headersSize", entry[side].get("headersSize"))
            number(f"entries[{i}].{side}.bodySize", entry[side].get("bodySize"))
        number(f"entries[{i}].response.status", entry["response"].get("status"))
        if not isinstance(entry["response"].get("content"), dict):
            problems.append(f"entries[{i}].response.content is not an object")
        else:
            number(f"entries[{i}].response.content.size", entry["response"]["content"].get("size"))
        for name in ("send", "wait", "receive"):
            number(f"entries[{i}].timings.{name}", entry["timings"].get(name))
        post = entry["request"].get("postData")
        if post is not None and not isinstance(post, dict):
            problems.append(f"entries[{i}].request.postData is not an object")
    return problems


@pytest.fixture
def story(live_mock: Callable[..., RunningMock]) -> Any:
    with receiver() as rx:
        running = live_mock(webhook_urls=(rx.url, refused_url()), webhook_secret=WEBHOOK_SECRET)
        facts = play(running.url)
        yield running, rx, facts


def test_the_transcript_holds_every_exchange_both_ways_in_time_order(story: Any, tmp_path: Path) -> None:
    running, rx, facts = story
    har = httpx.get(f"{running.url}/_mock/har", timeout=10).json()
    entries = har["log"]["entries"]
    assert har["log"]["version"] == "1.2" and har["log"]["creator"]["name"] == "askara-mock"
    starts = [e["startedDateTime"] for e in entries]
    assert starts == sorted(starts)
    inbound = [e for e in entries if e["_askara"]["direction"] == "inbound"]
    outbound = [e for e in entries if e["_askara"]["direction"] == "outbound"]
    kinds = {e["_askara"]["kind"] for e in inbound}
    assert {"oauth", "api", "download"} <= kinds
    token = next(e for e in inbound if e["request"]["url"].endswith("/oauth2/token"))
    assert token["request"]["method"] == "POST" and token["response"]["status"] == 200
    assert "grant_type=refresh_token" in token["request"]["postData"]["text"]
    assert "token_type" in token["response"]["content"]["text"]
    uuid = facts["document"]["uuid"]
    read = next(e for e in inbound if e["request"]["url"].endswith(f"/documents/{uuid}"))
    assert read["_askara"]["document"] == uuid and json.loads(read["response"]["content"]["text"])["uuid"] == uuid
    download = next(e for e in inbound if e["_askara"]["kind"] == "download")
    assert download["response"]["content"]["mimeType"] == "application/pdf"
    assert download["response"]["content"]["size"] > 1000 and "text" not in download["response"]["content"]
    for entry in entries:
        vendor = entry["_askara"]
        assert vendor["mock_time"].endswith("Z") and vendor["wall_time"].endswith("Z")
    answered = next(e for e in outbound if e["request"]["url"] == rx.url)
    assert answered["response"]["status"] == 200 and answered["response"]["content"]["text"] == '{"received":true}'
    sent, received = json.loads(answered["request"]["postData"]["text"]), rx.bodies[0]
    assert sent["events"][0]["id"] == received["events"][0]["id"] == uuid
    patient = received["events"][0]["metadata"]["document"]["patient"]
    pseudonymised = sent["events"][0]["metadata"]["document"]["patient"]
    assert pseudonymised["lastName"].startswith("Family-") and patient["lastName"] not in json.dumps(har)
    assert answered["_askara"]["attempt"] == 1 and answered["_askara"]["delivery_id"]
    assert answered["_askara"]["document"] == uuid
    refused = next(e for e in outbound if e["request"]["url"] != rx.url)
    assert refused["response"]["status"] == 0 and refused["response"]["_error"] == refused["_askara"]["failure"]
    assert refused["_askara"]["failure"] in ("refused", "connect")


def test_the_transcript_passes_a_har_validator_and_devtools_import_checks(story: Any, tmp_path: Path) -> None:
    running, _, _ = story
    har = httpx.get(f"{running.url}/_mock/har", timeout=10).json()
    path = tmp_path / "story.har"
    path.write_text(json.dumps(har))
    result = validate_with_har_validator(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert devtools_problems(har) == []
    broken = json.loads(json.dumps(har))  # the validator and the importer checks do refuse a broken file
    del broken["log"]["entries"][0]["response"]["status"]
    broken["log"]["entries"][1]["timings"]["wait"] = "soon"
    (tmp_path / "broken.har").write_text(json.dumps(broken))
    assert validate_with_har_validator(tmp_path / "broken.har").returncode == 1
    assert len(devtools_problems(broken)) == 2


IMPORT_IN_DEVTOOLS = """async (har) => {
    const m = await import('./models/har/har.js');
    const requests = m.Importer.Importer.requestsFromHARLog(new m.HARFormat.HARRoot(har).log);
    return requests.map(r => [r.requestMethod, r.url(), r.statusCode]);
}"""
"""Chromium's own HAR importer (front_end/models/har: HARRoot, then Importer.requestsFromHARLog), run in
the DevTools front end that Chromium bundles: what the Network panel's "Import HAR file" does."""


@pytest.mark.e2e
def test_chromium_devtools_imports_every_entry(story: Any, browser: Any) -> None:  # noqa: F811 (the fixture)
    running, _, _ = story
    har = httpx.get(f"{running.url}/_mock/har", timeout=10).json()
    page = browser.new_page()
    try:
        page.goto("devtools://devtools/bundled/devtools_app.html")
        imported = page.evaluate(IMPORT_IN_DEVTOOLS, har)
    finally:
        page.close()
    expected = [[e["request"]["method"], e["request"]["url"], e["response"]["status"]] for e in har["log"]["entries"]]
    assert imported == expected
    assert any(method == "POST" and status == 0 for method, _, status in imported)  # a refused webhook attempt too


def test_secrets_are_redacted_unless_asked_not_to(story: Any) -> None:
    running, _, facts = story
    secrets = [
        facts["credentials"]["client_secret"],
        facts["credentials"]["refresh_token"],
        facts["token"]["access_token"],
        facts["token"]["refresh_token"],
        facts["pdf_url"].split("X-Amz-Signature=")[1],
    ]
    raw = httpx.get(f"{running.url}/_mock/har", params={"redact": "false"}, timeout=10).text
    redacted = httpx.get(f"{running.url}/_mock/har", timeout=10).text
    signature = json.loads(raw)["log"]["entries"]
    signatures = [h["value"] for e in signature for h in e["request"]["headers"] if h["name"] == "webhook-signature"]
    assert signatures
    for secret in [*secrets, *signatures]:
        assert secret in raw
        assert secret not in redacted
    assert "Bearer [redacted]" in redacted and "NOT redacted" in raw


def test_har_command_writes_the_file(story: Any, tmp_path: Path) -> None:
    running, _, _ = story
    out = tmp_path / "out.har"
    result = subprocess.run(
        [str(CLI), "har", "-o", str(out), "--mock-url", running.url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    har = json.loads(out.read_text())
    assert har["log"]["entries"] and har["log"]["_askara"]["redacted"] is True
    assert str(out) in result.stderr
