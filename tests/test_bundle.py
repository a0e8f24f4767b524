"""Reproduction bundles from a running mock: ``GET /_mock/bundle``, ``askara-mock bundle export|show``.

The redaction test searches every member of the bundle (unzipped) for every secret the story
used and every patient's real name, date of birth and external id; a ``--no-redact`` bundle holds
them (so the search can fail), and the same patient keeps one pseudonym across members.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import CLI
from support_story import play, receiver, refused_url
from test_har import WEBHOOK_SECRET

from conformance.replay import config_for
from conformance.replay import load as load_bundle
from conformance.scenario import load
from mock_server.serving import RunningMock


@pytest.fixture
def story(live_mock: Callable[..., RunningMock]) -> Any:
    with receiver() as rx:
        running = live_mock(webhook_urls=(rx.url, refused_url()), webhook_secret=WEBHOOK_SECRET, seed=42)
        facts = play(running.url)
        yield running, facts


def unzipped(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def secrets_of(running: RunningMock, facts: dict[str, Any]) -> list[str]:
    raw = httpx.get(f"{running.url}/_mock/har", params={"redact": "false"}, timeout=10).json()
    signatures = [h["value"] for e in raw["log"]["entries"] for h in e["request"]["headers"]
                  if h["name"] == "webhook-signature"]
    ctx = running.app.state.mock
    return [
        facts["credentials"]["client_secret"], facts["credentials"]["refresh_token"],
        facts["token"]["access_token"], facts["token"]["refresh_token"], WEBHOOK_SECRET,
        facts["pdf_url"].split("X-Amz-Signature=")[1], ctx.s3_access_key_id, *signatures,
    ]


def patients_of(running: RunningMock) -> list[dict[str, Any]]:
    return list(running.app.state.mock.store.patients)


def test_the_bundle_holds_the_story_and_no_secret_or_patient_survives(story: Any, tmp_path: Path) -> None:
    running, facts = story
    members = unzipped(httpx.get(f"{running.url}/_mock/bundle", timeout=10).content)
    assert {"manifest.json", "scenario.yaml", "transcript.har"} <= set(members)
    manifest = json.loads(members["manifest.json"])
    assert manifest["redacted"] is True and manifest["seed"] == 42 and manifest["version"]
    assert "client_secret" not in manifest["settings"] and manifest["settings"]["clock"] == "manual"
    scenario_file = tmp_path / "scenario.yaml"
    scenario_file.write_text(members["scenario.yaml"])
    assert load(str(scenario_file)).steps[0] == {"trigger": {"event": "new_document", "as": "doc1"}}
    text = "\n".join(members.values())
    for secret in secrets_of(running, facts):
        assert secret not in text
    document_patient = facts["document"]["patient"]
    for patient in patients_of(running):
        for name in ("firstName", "lastName", "dateOfBirth", "externalId"):
            if patient.get(name):
                assert patient[name] not in text and patient[name].upper() not in text
    pseudonyms = {json.dumps(e) for e in json.loads(members["transcript.har"])["log"]["entries"]
                  if facts["document"]["uuid"] in json.dumps(e) and "Given-" in json.dumps(e)}
    numbers = {token.split('"')[0] for entry in pseudonyms for token in entry.split("Family-")[1:]}
    assert len(numbers) == 1, numbers  # the document's patient is one pseudonym in every entry
    assert document_patient["lastName"] not in text


def test_no_redact_keeps_them_and_says_so(story: Any, tmp_path: Path) -> None:
    running, facts = story
    out = tmp_path / "raw.zip"
    result = subprocess.run([str(CLI), "bundle", "export", "-o", str(out), "--no-redact", "--mock-url", running.url],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr and "NOT redacted" in result.stderr
    text = "\n".join(unzipped(out.read_bytes()).values())
    assert facts["token"]["access_token"] in text and facts["document"]["patient"]["lastName"] in text


def test_bundle_show_prints_what_is_inside(story: Any, tmp_path: Path) -> None:
    running, _ = story
    out = tmp_path / "b.zip"
    assert subprocess.run([str(CLI), "bundle", "export", "-o", str(out), "--mock-url", running.url],
                          capture_output=True, timeout=60).returncode == 0
    shown = subprocess.run([str(CLI), "bundle", "show", str(out), "--json"], capture_output=True, text=True, timeout=60)
    info = json.loads(shown.stdout)
    assert info["redacted"] is True and info["seed"] == 42 and "entries" in info["transcript"]
    assert info["scenario"].startswith("bundle:")
    (tmp_path / "not.zip").write_text("hello")
    bad = subprocess.run([str(CLI), "bundle", "show", str(tmp_path / "not.zip")], capture_output=True, text=True)
    assert bad.returncode == 1 and "not a bundle" in bad.stderr


def test_an_exported_bundle_replays_with_its_seed_and_mode(story: Any, tmp_path: Path) -> None:
    """``bundle replay`` reads an export too: its one scenario, seed and mode (the mock's settings are not a run's)."""
    running, _ = story
    out = tmp_path / "b.zip"
    out.write_bytes(httpx.get(f"{running.url}/_mock/bundle", timeout=10).content)
    loaded, scenarios = load_bundle(out)
    assert len(scenarios) == 1 and scenarios[0].steps[0] == {"trigger": {"event": "new_document", "as": "doc1"}}
    config = config_for(loaded, scenarios, "http://127.0.0.1:9/w", start="true")
    assert (config.seed, config.mode, config.rate_limit_interval, config.start) == (42, "webhook", 1, "true")
    assert loaded.report is None


def test_the_exported_snapshot_is_the_story_start_and_a_reset_moves_it(app_client) -> None:  # type: ignore[no-untyped-def]
    """Replaying the bundle's story from its snapshot must start where the story started, not where it led."""
    app_client = app_client()

    def snapshot_in_bundle() -> dict[str, Any]:
        answer = app_client.get("/_mock/bundle", params={"redact": "false"})
        with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            assert manifest["snapshot"].startswith("the state at the story's start"), manifest["snapshot"]
            return dict(json.loads(archive.read("snapshot.json")))

    at_start = snapshot_in_bundle()
    documents_at_start = len(at_start["tables"]["documents"]["rows"])
    assert app_client.post("/_mock/documents", json={"validate": True}).status_code == 201
    assert len(snapshot_in_bundle()["tables"]["documents"]["rows"]) == documents_at_start  # the story's start
    assert len(app_client.get("/_mock/snapshot").json()["tables"]["documents"]["rows"]) == documents_at_start + 1
    assert app_client.post("/_mock/documents", json={}).status_code == 201
    assert app_client.post("/_mock/reset").status_code == 200
    after_reset = snapshot_in_bundle()
    assert len(after_reset["tables"]["documents"]["rows"]) == documents_at_start
