"""The web page in a real browser: Debian's Chromium, driven headless by Playwright (no browser download).

Each test clicks what a support engineer clicks (Validate, Synchronize, Redeliver, Edit and
resend, the exports) and checks both the page (updated live by /_mock/stream, never by a
Refresh click) and the mock's own state over the control API. Without /usr/bin/chromium the tests
skip, saying so; under CI (``CI`` set) they fail instead: `.ci/run` installs it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_server.serving import RunningMock, serve_in_thread
from mock_server.testing.receiver import ScriptedReceiver, receiver_in_thread
from tests.conftest import make_settings

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 15_000

pytestmark = pytest.mark.e2e


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs Debian's chromium)")
    pytest.skip(f"{reason}: the browser tests need it (apt-get install -y --no-install-recommends chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        _missing(f"{CHROMIUM} is absent")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def served() -> Iterator[tuple[RunningMock, ScriptedReceiver, httpx.Client]]:
    with receiver_in_thread() as receiver:
        settings = make_settings(seed_documents=1, seed_notes=0, webhook_urls=(receiver.url("/hook"),))
        with serve_in_thread(settings) as mock, httpx.Client(base_url=mock.url, timeout=10) as control:
            yield mock, receiver, control


@pytest.fixture
def page(browser: Any, served: tuple[RunningMock, ScriptedReceiver, httpx.Client]) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(served[0].url + "/_mock/ui")
    tab.locator("#live.on").wait_for(timeout=WAIT_MS)  # the stream said hello
    yield tab
    context.close()
    assert errors == [], errors


def _deliveries(control: httpx.Client, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = control.get("/_mock/deliveries", params=params).json()["items"]
    return items


def test_validate_and_synchronize_change_the_mock_and_the_page_follows(page: Any, served: Any) -> None:
    mock, receiver, control = served
    draft = control.post("/_mock/documents").json()["document"]
    row = page.locator(f'tr[data-uuid="{draft["uuid"]}"]')
    row.wait_for(timeout=WAIT_MS)  # a document created elsewhere shows up live
    row.locator("button.validate").click()
    page.locator(f'tr[data-uuid="{draft["uuid"]}"] td.doc-state', has_text="verified").wait_for(timeout=WAIT_MS)
    assert control.get(f"/_mock/documents/{draft['uuid']}").json()["state"] == "verified"
    card = page.locator(".delivery", has_text=draft["uuid"]).first
    card.locator(".verdict", has_text="200 in").wait_for(timeout=WAIT_MS)
    assert "PDF not downloaded; no status report yet" in card.locator(".verdict").inner_text()

    page.locator(f'tr[data-uuid="{draft["uuid"]}"] button.synchronize').click()
    page.locator(".delivery", has_text="document_synchronize").first.wait_for(timeout=WAIT_MS)
    assert control.get(f"/_mock/documents/{draft['uuid']}").json()["_last_sync_request"] is not None
    assert any("document_synchronize" in d["actions"] for d in _deliveries(control))

    token = control.get("/_mock/credentials").json()["access_token"]
    report = {"success": False, "error": "no such patient in the software"}
    answer = control.post(f"/documents/{draft['uuid']}/status", json=report,
                          headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    reported = page.locator(f'tr[data-uuid="{draft["uuid"]}"] td.last-error', has_text="no such patient")
    reported.wait_for(timeout=WAIT_MS)
    page.locator(".delivery .verdict", has_text="reported failure 'no such patient in the software'").first.wait_for(
        timeout=WAIT_MS)


def test_redeliver_adds_an_attempt(page: Any, served: Any) -> None:
    mock, receiver, control = served
    control.post("/_mock/notes")
    delivery = _wait_for_delivery(control, "new_note")
    card = page.locator(f'.delivery[data-id="{delivery["id"]}"]')
    card.locator("summary", has_text="1 attempt(s)").wait_for(timeout=WAIT_MS)
    card.locator("button.redeliver").click()
    card.locator("summary", has_text="2 attempt(s)").wait_for(timeout=WAIT_MS)
    attempts = control.get(f"/_mock/deliveries/{delivery['id']}").json()["attempts"]
    assert [a["kind"] for a in attempts] == ["scheduled", "redeliver"]
    assert len(receiver.requests) == 2


def test_edit_and_resend_sends_the_changed_payload_to_the_same_webhook(page: Any, served: Any) -> None:
    mock, receiver, control = served
    control.post("/_mock/notes")
    delivery = _wait_for_delivery(control, "new_note")
    page.locator(f'.delivery[data-id="{delivery["id"]}"] button.edit').click()
    editor = page.locator("#editor-body")
    assert '"new_note"' in editor.input_value()
    editor.fill(editor.input_value().replace('"new_note"', '"note_reviewed"'))
    page.locator("#editor-send").click()
    page.locator(".delivery", has_text="note_reviewed").first.wait_for(timeout=WAIT_MS)
    sent = [d for d in _deliveries(control) if d["actions"] == ["note_reviewed"]]
    assert len(sent) == 1 and sent[0]["webhook_id"] == delivery["webhook_id"] and sent[0]["fault"] == "raw"
    assert not page.locator("#editor").is_visible()

    page.locator(f'.delivery[data-id="{delivery["id"]}"] button.edit').click()
    editor.fill("{not json")
    page.locator("#editor-send").click()
    page.locator("#editor-error", has_text="Not JSON").wait_for(timeout=WAIT_MS)
    editor.fill('{"events": [{"action": "no id"}]}')
    page.locator("#editor-send").click()
    page.locator("#editor-error", has_text="id").wait_for(timeout=WAIT_MS)  # the control API's 400, shown


def test_the_export_buttons_download_the_snapshot_the_har_and_the_bundle(page: Any) -> None:
    for button, name in (("#export-snapshot", "askara-mock-snapshot.json"), ("#export-har", "askara-mock.har"),
                         ("#export-bundle", "askara-mock-bundle.zip")):
        with page.expect_download(timeout=WAIT_MS) as download:
            page.locator(button).click()
        assert download.value.suggested_filename == name
        assert os.path.getsize(download.value.path()) > 100


def _wait_for_delivery(control: httpx.Client, action: str) -> dict[str, Any]:
    """The delivery of ``action`` once attempted (the receiver answers in real time)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [d for d in _deliveries(control) if action in d["actions"] and d["attempts"]]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no attempted delivery of {action} within 10 s")
