"""Run bundles and their replay: ``conformance run --bundle``, ``askara-mock bundle replay|show``.

The walk-through of docs/support-guide.md, command for command: a customer's failing run (the
reference with ``never-confirm``) captured as a bundle, replayed against the fixed build (the
correct reference), the divergence naming the check that went from failed to passed and the
documents now confirmed; then the reverse, a passing bundle replayed against a broken build, names
the regression and exits non-zero. The redaction test searches every member of a run bundle for
every secret the run used and every patient's real name, date of birth and external id.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI, ROOT, reference_command
from test_har import WEBHOOK_SECRET

from conformance.replay import BundleError, load
from conformance.reports.divergence import divergence
from conformance.run_bundle import BundleRecorder, write_run_bundle
from conformance.runner import EXIT_FAILED, EXIT_NOT_RUN, EXIT_PASSED, RunConfig, RunResult, run
from conformance.scenario import load as load_scenario
from mock_server.serving import free_port
from mock_server.support.redact import patient_pseudonyms

CLIENT_SECRET = "cs-" + "run-bundle-test-client-secret"


def unzipped(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def askara_mock(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "400"})  # fmt: skip


def reference(tmp: Path, name: str, *defects: str) -> list[str]:
    """``--target-url`` and ``--start`` of a reference build (the walk-through's customer or fixed build)."""
    port = free_port()
    return ["--target-url", f"http://127.0.0.1:{port}/webhook",
            "--start", reference_command(port, tmp / name, *defects), "--timeout", "8", "--quiet"]  # fmt: skip


def raw_secrets(recorder: BundleRecorder) -> set[str]:
    """Every token, secret and signature the raw transcript shows, read from the HAR itself."""
    assert recorder.har is not None
    found = set()
    for entry in recorder.har["log"]["entries"]:
        for header in entry["request"]["headers"]:
            if header["name"].lower() == "authorization":
                found.add(header["value"].split(" ", 1)[-1])
            if header["name"].lower() == "webhook-signature":
                found.update(header["value"].split(" "))
        for text in (entry["request"].get("postData", {}).get("text"), entry["response"]["content"].get("text")):
            if text and text.lstrip().startswith("{"):
                body = json.loads(text)
                if isinstance(body, dict):
                    found.update(str(body[k]) for k in ("access_token", "refresh_token", "code", "client_secret")
                                 if body.get(k))  # fmt: skip
    return {s for s in found if len(s) >= 6}


@pytest.mark.e2e
def test_the_run_bundle_holds_the_run_and_no_secret_or_patient_survives(tmp_path: Path) -> None:
    port = free_port()
    recorder = BundleRecorder()
    config = RunConfig(
        target_url=f"http://127.0.0.1:{port}/webhook", scenarios=[load_scenario("basics")],
        start=reference_command(port, tmp_path / "data") + " --verify-signatures", signatures=True,
        client_secret=CLIENT_SECRET, webhook_secret=WEBHOOK_SECRET, timeout=30, watcher=recorder, seed=1,
    )  # fmt: skip
    result = run(config)
    assert result.error is None and result.scenarios, result.error  # judged (the verdict is not what this is about)
    members = unzipped(write_run_bundle(result, recorder, tmp_path / "b.zip"))
    assert set(members) == {"manifest.json", "scenario.yaml", "transcript.har", "snapshot.json", "report.json"}
    manifest = json.loads(members["manifest.json"])
    assert manifest["redacted"] is True and manifest["produced_by"] == "conformance run --bundle"
    assert (manifest["seed"], manifest["mode"], manifest["settings"]["signatures"]) == (result.seed, "webhook", True)
    assert json.loads(members["report.json"])["verdict"] == result.verdict
    text = "\n".join(members.values())
    raw = "\n".join(unzipped(write_run_bundle(result, recorder, tmp_path / "raw.zip", redact=False)).values())
    secrets = raw_secrets(recorder)
    assert CLIENT_SECRET in secrets and any(s.startswith("v1,") for s in secrets)  # tokens, signatures too
    for secret in secrets:
        assert secret in raw  # the search can fail: unredacted, every one is there
    for secret in {*secrets, CLIENT_SECRET, WEBHOOK_SECRET}:
        assert secret not in text, secret
    assert recorder.end_snapshot is not None and recorder.start_snapshot is not None
    patients = [record for _key, record in recorder.end_snapshot["tables"]["patients"]["rows"]]
    for patient in patients:
        for name in ("firstName", "lastName", "dateOfBirth", "externalId"):
            if patient.get(name):
                assert patient[name] in raw
                # Whole words, as the redactor replaces them: a town "Robinboeuf" is not the patient Robin.
                for spelled in (patient[name], patient[name].upper()):
                    assert not re.search(rf"\b{re.escape(spelled)}\b", text), (name, spelled)
    # One patient, one pseudonym: in the snapshot's patients, the report's timeline and the transcript.
    mapping = patient_pseudonyms(patients)
    pseudonym = {p["uuid"]: mapping[p["lastName"]] for p in patients}
    shared = json.loads(members["snapshot.json"])["tables"]["patients"]["rows"]
    assert shared and {key: record["lastName"] for key, record in shared} == {key: pseudonym[key] for key, _ in shared}
    documents = {key: record for key, record in recorder.end_snapshot["tables"]["documents"]["rows"]}
    downloaded = set(re.findall(r"askara-documents/([0-9a-f-]{36})/", members["report.json"]))
    assert downloaded
    for uuid in downloaded:
        expected = pseudonym[documents[uuid]["patient"]["uuid"]].upper()
        for member in ("report.json", "transcript.har"):
            named = set(re.findall(rf"{uuid}/[a-z-]*?-(FAMILY-\d+)-", members[member]))
            assert named == {expected}, (member, named)


@pytest.fixture(scope="module")
def walk_through(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The support guide's walk-through: capture the customer's failure, replay it against the fix."""
    tmp = tmp_path_factory.mktemp("walk-through")
    captured = askara_mock("conformance", "run", "--scenario", "basics", "--bundle", str(tmp / "customer.zip"),
                           *reference(tmp, "customer", "never-confirm"))  # fmt: skip
    fixed = askara_mock("bundle", "replay", str(tmp / "customer.zip"), *reference(tmp, "fixed"),
                        "--json", str(tmp / "replay.json"), "--bundle", str(tmp / "fixed.zip"))  # fmt: skip
    return {"tmp": tmp, "captured": captured, "fixed": fixed}


@pytest.mark.e2e
def test_a_failing_run_captured_and_replayed_against_the_fix_shows_the_fix(walk_through: dict[str, Any]) -> None:
    tmp, captured, fixed = walk_through["tmp"], walk_through["captured"], walk_through["fixed"]
    assert captured.returncode == EXIT_FAILED, captured.stderr
    assert "wrote " in captured.stderr and "redacted" in captured.stderr
    shown = askara_mock("bundle", "show", str(tmp / "customer.zip"))
    assert shown.returncode == 0 and re.search(r"^report\s+verdict failed \(\d+ passed, 1 failed", shown.stdout, re.M)
    assert re.search(r"^\s+always-confirm\s+failed$", shown.stdout, re.M), shown.stdout
    assert fixed.returncode == EXIT_PASSED, fixed.stdout + fixed.stderr
    assert "divergence from the recorded run (failed -> passed):" in fixed.stdout
    assert re.search(r"^  check always-confirm: failed -> passed", fixed.stdout, re.M), fixed.stdout
    section = json.loads((tmp / "replay.json").read_text())["divergence"]
    assert section["diverged"] and {"id": "always-confirm", "was": "failed", "now": "passed"}.items() <= next(
        c for c in section["checks"] if c["id"] == "always-confirm").items()
    confirmed = [d for d in section["documents"] if d["now"] == "confirmed"]
    assert len(confirmed) == 2 and all(d["was"] == "fetched, never confirmed" for d in confirmed)
    for document in confirmed:
        assert f"document {document['uuid']}: {document['was']} -> confirmed" in fixed.stdout


@pytest.mark.e2e
def test_a_passing_bundle_replayed_against_a_broken_build_names_the_regression(walk_through: dict[str, Any]) -> None:
    tmp = walk_through["tmp"]
    assert (tmp / "fixed.zip").exists(), walk_through["fixed"].stderr  # the replay wrote its own bundle
    broken = askara_mock("bundle", "replay", str(tmp / "fixed.zip"), *reference(tmp, "broken", "never-confirm"),
                         "--junit", str(tmp / "regression.xml"), "--html", str(tmp / "regression.html"))  # fmt: skip
    assert broken.returncode == EXIT_FAILED, broken.stdout + broken.stderr
    assert "divergence from the recorded run (passed -> failed):" in broken.stdout
    assert re.search(r"^  check always-confirm: passed -> failed", broken.stdout, re.M), broken.stdout
    assert re.search(r"^  document [0-9a-f-]{36}: confirmed -> ", broken.stdout, re.M)
    junit = (tmp / "regression.xml").read_text()
    assert 'testsuite name="divergence"' in junit and 'type="regression"' in junit
    page = (tmp / "regression.html").read_text()
    assert "Divergence from the recorded run" in page and "<td>check always-confirm</td><td>passed</td>" in page


def test_replay_refuses_what_is_not_a_bundle_and_compares_nothing_without_a_report(tmp_path: Path) -> None:
    (tmp_path / "not.zip").write_text("hello")
    refused = askara_mock("bundle", "replay", str(tmp_path / "not.zip"), "--target-url", "http://127.0.0.1:9/w")
    assert refused.returncode == EXIT_NOT_RUN and "not a bundle" in refused.stderr
    with pytest.raises(BundleError, match="not a bundle"):
        load(tmp_path / "not.zip")
    section = divergence(None, {"checks": [], "verdict": "passed"})
    assert section["compared"] is False and "no report.json" in section["why"]


def test_run_and_replay_take_the_bundle_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    import conformance.cli as cli
    import conformance.run_bundle as run_bundle
    from mock_server.cli import main

    seen: list[tuple[RunConfig, bool]] = []
    monkeypatch.setattr(cli, "run", lambda config: RunResult(config, "passed", EXIT_PASSED, [], [], 0.0, 0.0))
    monkeypatch.setattr(run_bundle, "write_run_bundle",
                        lambda result, recorder, path, redact: seen.append((result.config, redact)))  # fmt: skip
    args = ["conformance", "run", "--target-url", "http://127.0.0.1:9/w", "--scenario", "basics",
            "--bundle", str(tmp_path / "b.zip"), "--no-redact", "--quiet"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert isinstance(seen[0][0].watcher, BundleRecorder) and seen[0][1] is False
    assert "NOT redacted" in result.output or "--no-redact" in result.output
    listed = CliRunner().invoke(main, ["bundle", "--help"])
    assert "replay" in listed.output and "show" in listed.output
