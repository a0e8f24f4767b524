"""``askara-mock record``: control actions taken by hand become a scenario file that validates.

The translation is proved on a live feed (``GET /_mock/actions``) in-process; the command itself
runs as a process, records what is done through the control API, and closes the file on Ctrl-C.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import CLI
from starlette.testclient import TestClient

from conformance.scenario import load
from mock_server.serving import RunningMock
from mock_server.support.story import Story


def test_actions_feed_and_story(app_client: Callable[..., TestClient]) -> None:
    client = app_client()
    first = client.post("/_mock/documents", json={"validate": True}).json()["document"]["uuid"]
    draft = client.post("/_mock/documents", json={"title": "Lettre"}).json()["document"]["uuid"]
    client.post("/_mock/faults", json={"kind": "download", "mode": "error", "document": draft})
    client.post(f"/_mock/documents/{draft}/validate")
    client.post("/_mock/clock/advance", json={"seconds": 31})
    client.post(f"/_mock/documents/{first}/synchronize")
    client.post("/_mock/notes", json={})
    client.post("/_mock/clock/advance", json={"seconds": -1})  # refused: kept as skipped
    client.post("/_mock/reset")
    feed = client.get("/_mock/actions").json()
    assert set(feed) == {"items", "last_id", "dropped"} and feed["last_id"] == feed["items"][-1]["id"]
    assert client.get("/_mock/actions", params={"since": feed["last_id"]}).json()["items"] == []
    story = Story()
    for action in feed["items"][:2]:
        story.add(action)
    story.answered({first})  # the integration reported on the first document before the next action
    for action in feed["items"][2:]:
        story.add(action)
    assert story.steps == [
        {"trigger": {"event": "new_document", "as": "doc1"}},
        {"create": {"as": "doc2", "title": "Lettre"}},
        {"wait": {"until": "status-reports", "document": "doc1"}},
        {"fault": {"kind": "download", "mode": "error", "document": "doc2"}},
        {"validate": "doc2"},
        {"advance": 31},
        {"trigger": {"event": "document_synchronize", "document": "doc1"}},
        {"trigger": {"event": "new_note", "as": "note1"}},
    ]
    assert [s.split(":")[0] for s in story.skipped] == ["POST /_mock/clock/advance", "POST /_mock/reset"]
    assert story.scenario()["steps"][-1] == {"wait": {"until": "idle"}}


@pytest.mark.e2e
def test_record_command_writes_a_valid_scenario_until_ctrl_c(
    live_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    running = live_mock()
    out = tmp_path / "story.yaml"
    process = subprocess.Popen(
        [str(CLI), "record", "-o", str(out), "--mock-url", running.url, "--poll", "0.05", "--seed", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not out.exists():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        with httpx.Client(base_url=running.url, timeout=10) as http:
            http.post("/_mock/documents", json={"validate": True})
            http.post("/_mock/faults", json={"kind": "duplicate", "count": 1})
            http.post("/_mock/clock/advance", json={"seconds": 5})
        while len(yaml.safe_load(out.read_text())["steps"]) < 4:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    scenario = load(str(out))
    assert scenario.seed == 7
    assert scenario.steps == [
        {"trigger": {"event": "new_document", "as": "doc1"}},
        {"fault": {"kind": "duplicate", "count": 1}},
        {"advance": 5},
        {"wait": {"until": "idle"}},
    ]
    assert "4 steps" in err
