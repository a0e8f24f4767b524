"""State snapshots: ``GET``/``POST /_mock/snapshot``, ``snapshot save|load``, ``serve --load``/``--save-on-exit``.

What is proved: a snapshot loaded into a fresh mock snapshots again identically (by hand and from
Hypothesis-generated stories); loading fires no webhook and re-arms only the pending retries, at
their recorded times; a bad or foreign-version snapshot is refused whole with the field and rule
named, and the state is left untouched; the file writer never destroys the previous file.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from conftest import make_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from test_sender_durability import receiver_thread

from mock_server import create_app
from mock_server.cli import main
from mock_server.cli.snapshot import write_atomically
from mock_server.core import snapshot as fmt
from mock_server.serving import free_port, serve_in_thread
from mock_server.support.bundle import read_bundle


def mock(**overrides: Any) -> TestClient:
    settings = make_settings(**overrides)
    return TestClient(create_app(settings), base_url=settings.base_url)


def dead_url() -> str:
    """A loopback URL nobody listens on: every attempt is refused, so retries stay pending."""
    return f"http://127.0.0.1:{free_port()}/webhook"


def a_story(client: TestClient) -> None:
    """Documents, a validation that fails to deliver (retries pending), tokens, a rate bucket, a fault."""
    client.post("/_mock/documents", json={"validate": True})
    client.post("/_mock/notes")
    token = client.get("/_mock/credentials").json()["access_token"]
    assert client.get("/documents", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    client.post("/_mock/faults", json={"kind": "duplicate", "count": 2})
    assert client.post("/_mock/settle").status_code == 200


def test_round_trip_into_a_fresh_mock_is_identical() -> None:
    url = dead_url()
    with mock(webhook_urls=(url,)) as first:
        a_story(first)
        saved = first.get("/_mock/snapshot").json()
    pending = [r for _, r in saved["tables"]["deliveries"]["rows"] if r["state"] == "pending"]
    assert pending and all(r["next_attempt_at"] > saved["clock"]["now"] for r in pending)
    assert saved["rate_buckets"] and saved["tables"]["refresh_tokens"]["rows"]
    assert saved["tables"]["meta"]["rows"][0][0] == "faults"
    with mock(clock_start=1_790_000_000.0) as fresh:
        answer = fresh.post("/_mock/snapshot", json=saved)
        assert answer.status_code == 200, answer.text
        assert answer.json()["pending_deliveries"] == len(pending)
        assert fresh.get("/_mock/snapshot").json() == saved
        assert fresh.get("/_mock/clock").json()["now"] == saved["clock"]["now"]


def test_loading_arms_the_pending_retries_at_their_recorded_times_and_fires_nothing() -> None:
    with receiver_thread("status/500") as rx:
        url = rx.url("/hook")
        with mock(webhook_urls=(url,)) as first:
            first.post("/_mock/documents", json={"validate": True})
            first.post("/_mock/notes")
            assert first.post("/_mock/settle").status_code == 200
            first.post("/_mock/clock/advance", json={"seconds": 60, "wait": True})  # the note's delivery fails for good
            first.post("/_mock/documents", json={"validate": True})
            assert first.post("/_mock/settle").status_code == 200
            saved = first.get("/_mock/snapshot").json()
        sent = len(rx.requests)
        states = sorted(r["state"] for _, r in saved["tables"]["deliveries"]["rows"])
        assert states == ["failed", "failed", "pending"]
        pending = next(r for _, r in saved["tables"]["deliveries"]["rows"] if r["state"] == "pending")
        retry_at = pending["next_attempt_at"]
        with mock() as fresh:
            assert fresh.post("/_mock/snapshot", json=saved).status_code == 200
            assert fresh.post("/_mock/settle").status_code == 200
            assert len(rx.requests) == sent  # nothing fired by loading
            fresh.post("/_mock/clock/advance", json={"seconds": retry_at - saved["clock"]["now"] - 0.5, "wait": True})
            assert len(rx.requests) == sent  # not before its time
            fresh.post("/_mock/clock/advance", json={"seconds": 0.5, "wait": True})
            assert fresh.post("/_mock/settle").status_code == 200
            assert len(rx.requests) == sent + 1  # the one pending retry, once
            attempts = fresh.get("/_mock/deliveries").json()["items"]
            retried = [a for d in attempts for a in d["attempts"] if a["scheduled_at"] == retry_at]
            assert len(retried) == 1


def _broken(saved: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(saved)
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "field", "rule"),
    [
        ("tables.documents.rows.0.1.state", "sent", "tables.documents.rows.0.1.state", "enum"),
        ("tables.deliveries", None, "tables.deliveries", "type"),
        ("clock.now", "soon", "clock.now", "type"),
        ("tables.patients.rows.0.0", "not-its-uuid", "tables.patients.rows.0.1.uuid", "key"),
        ("tables.meta.rows", [["signing_key", {"pem": "x"}]], "tables.meta.rows.0.0", "own_meta"),
        ("format", "har", "format", "format"),
    ],
)
def test_a_bad_snapshot_is_refused_whole_naming_the_field_and_rule(
    path: str, value: Any, field: str, rule: str
) -> None:
    with mock() as client:
        client.post("/_mock/documents", json={"validate": True})
        saved = client.get("/_mock/snapshot").json()
        client.post("/_mock/documents")  # the state a refused load must leave as it is
        before = client.get("/_mock/snapshot").json()
        answer = client.post("/_mock/snapshot", json=_broken(saved, path, value))
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert {"propertyPath": field, "code": rule} in [
            {"propertyPath": v["propertyPath"], "code": v["code"]} for v in answer.json()["violations"]
        ], answer.json()
        assert client.get("/_mock/snapshot").json() == before


@pytest.mark.parametrize("version", [0, 2])
def test_another_format_version_is_refused_naming_both_versions(version: int) -> None:
    with mock() as client:
        saved = client.get("/_mock/snapshot").json()
        answer = client.post("/_mock/snapshot", json={**saved, "version": version})
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert f"version {version}" in detail and f"version {fmt.VERSION}" in detail, detail


def test_an_older_version_is_upgraded_when_an_upgrade_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    def from_0(doc: dict[str, Any]) -> dict[str, Any]:  # a made-up version 0 that called the buckets "buckets"
        renamed = {k: v for k, v in doc.items() if k != "buckets"}
        return {**renamed, "version": 1, "rate_buckets": doc["buckets"]}

    monkeypatch.setitem(fmt.UPGRADES, 0, from_0)
    with mock() as client:
        saved = client.get("/_mock/snapshot").json()
        old = {**{k: v for k, v in saved.items() if k != "rate_buckets"}, "version": 0, "buckets": {}}
        assert client.post("/_mock/snapshot", json=old).status_code == 200
        assert client.get("/_mock/snapshot").json() == saved


ACTIONS = st.sampled_from(["document", "validated", "note", "advance", "credentials", "fault", "synchronize"])


@settings(max_examples=8, deadline=None)
@given(st.lists(ACTIONS, max_size=6))
def test_round_trip_holds_after_any_story(actions: list[str]) -> None:
    url = dead_url()
    with mock(webhook_urls=(url,)) as first:
        for action in actions:
            _act(first, action)
        first.post("/_mock/settle")
        saved = first.get("/_mock/snapshot").json()
    with mock() as fresh:
        assert fresh.post("/_mock/snapshot", json=saved).status_code == 200
        assert fresh.get("/_mock/snapshot").json() == saved


def _act(client: TestClient, action: str) -> None:
    if action == "document":
        client.post("/_mock/documents")
    elif action == "validated":
        client.post("/_mock/documents", json={"validate": True})
    elif action == "note":
        client.post("/_mock/notes")
    elif action == "advance":
        client.post("/_mock/clock/advance", json={"seconds": 7, "wait": True})
    elif action == "credentials":
        client.get("/_mock/credentials")
    elif action == "fault":
        client.post("/_mock/faults", json={"kind": "duplicate"})
    else:
        verified = client.get("/_mock/documents", params={"state": "verified"}).json()["items"]
        if verified:
            client.post(f"/_mock/documents/{verified[0]['uuid']}/synchronize")


@pytest.fixture(scope="module")
def fuzzed() -> Any:
    """One mock for every fuzzed load, the snapshot the mutations start from, and every path inside it."""
    with mock() as client:
        client.post("/_mock/documents", json={"validate": True})
        client.get("/_mock/credentials")
        sample = client.get("/_mock/snapshot").json()
        yield client, sample, sorted(_paths(sample), key=str)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``node`` a value can be put (each key and index, containers included)."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    return [path for key, child in children for path in [(*prefix, key), *_paths(child, (*prefix, key))]]


JSON_VALUES = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
               | st.text(max_size=5) | st.just([]) | st.just({}) | st.lists(st.integers(), max_size=2))


@settings(max_examples=int(os.environ.get("SNAPSHOT_FUZZ_EXAMPLES", "30")), deadline=None)
@given(data=st.data())
def test_no_mutation_of_a_snapshot_gets_a_5xx(fuzzed: Any, data: st.DataObject) -> None:
    """One value anywhere in a real snapshot replaced: the load is 200 or 400, and the mock answers after it."""
    client, sample, paths = fuzzed
    doc = copy.deepcopy(sample)
    *parents, last = data.draw(st.sampled_from(paths))
    node: Any = doc
    for key in parents:
        node = node[key]
    node[last] = data.draw(JSON_VALUES)
    answer = client.post("/_mock/snapshot", json=doc)
    assert answer.status_code in (200, 400), answer.text
    for path in ("/_mock/documents", "/_mock/notes", "/_mock/deliveries", "/_mock/snapshot", "/_mock/clock",
                 "/_mock/faults", "/_mock/webhooks", "/_mock/events", "/_mock/status-reports"):
        assert client.get(path).status_code == 200, path
    credentials = client.get("/_mock/credentials")
    assert credentials.status_code < 500, credentials.text
    if credentials.status_code == 200:
        auth = {"Authorization": f"Bearer {credentials.json()['access_token']}"}
        for path in ("/me", "/documents", "/patients", "/notes", "/webhooks"):
            assert client.get(path, headers=auth).status_code < 500, path
    assert client.post("/_mock/documents", json={"validate": True}).status_code < 500
    assert client.post("/_mock/notes").status_code < 500
    assert client.post("/_mock/settle", params={"advance": "true", "timeout": "5"}).status_code < 500


def test_write_atomically_never_destroys_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    write_atomically(target, b'{"old": true}')

    def broken_fsync(_fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, b'{"new": true}')
    assert target.read_bytes() == b'{"old": true}'
    assert list(tmp_path.iterdir()) == [target]  # the temporary file is gone too


@pytest.mark.e2e
def test_cli_snapshot_save_then_load_into_another_mock(tmp_path: Path) -> None:
    file = tmp_path / "snap.json"
    later = make_settings(clock_start=1_790_000_000.0)
    with serve_in_thread(make_settings()) as source, serve_in_thread(later) as target:
        httpx.post(f"{source.url}/_mock/documents", json={"validate": True})
        saved = CliRunner().invoke(main, ["snapshot", "save", "-o", str(file), "--mock-url", source.url])
        assert saved.exit_code == 0, saved.output
        loaded = CliRunner().invoke(main, ["snapshot", "load", str(file), "--mock-url", target.url, "--json"])
        assert loaded.exit_code == 0, loaded.output
        assert json.loads(loaded.output)["counts"]["documents"] == 13
        assert httpx.get(f"{target.url}/_mock/snapshot").json() == json.loads(file.read_text())
        file.write_text(json.dumps({**json.loads(file.read_text()), "version": 9}))
        refused = CliRunner().invoke(main, ["snapshot", "load", str(file), "--mock-url", target.url])
        assert refused.exit_code == 1 and "version 9" in refused.output, refused.output


def _serve(log: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """``askara-mock serve ARGS`` in a child process, once it answers; its output goes to ``log``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-c", "from mock_server.cli import main; main()", "serve", "--clock", "manual",
               "--port", str(port), "--files-port", str(free_port()), *args]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/_mock/clock", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(log.read_text())


@pytest.mark.e2e
def test_serve_save_on_exit_then_load(tmp_path: Path) -> None:
    file, log = tmp_path / "saved.json", tmp_path / "serve.log"
    first, url = _serve(log, "--clock-start", "1780000000", "--save-on-exit", str(file))
    try:
        httpx.post(f"{url}/_mock/documents", json={"validate": True})
        httpx.post(f"{url}/_mock/clock/advance", json={"seconds": 42})
        expected = httpx.get(f"{url}/_mock/snapshot").json()
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(30)
    assert file.exists(), log.read_text()
    assert json.loads(file.read_text()) == expected
    hook = "http://127.0.0.1:9/hook"
    second, url = _serve(log, "--load", str(file), "--webhook-url", hook)
    try:
        loaded = httpx.get(f"{url}/_mock/snapshot").json()
        assert [r["url"] for _, r in loaded["tables"]["webhooks"]["rows"]] == [hook]  # registered at start, after
        loaded["tables"]["webhooks"] = expected["tables"]["webhooks"]
        assert loaded == expected
    finally:
        second.kill()
        second.wait(30)


def test_serve_load_refuses_a_bad_file_before_starting(tmp_path: Path) -> None:
    file = tmp_path / "bad.json"
    file.write_text(json.dumps({"format": fmt.FORMAT, "version": 3}))
    ports = ["--port", str(free_port()), "--files-port", str(free_port())]  # PORT + 1 may be taken
    result = CliRunner().invoke(main, ["serve", "--load", str(file), *ports])
    assert result.exit_code == 2 and "version 3" in result.output, result.output


def test_the_bundle_holds_a_redacted_snapshot_that_still_loads() -> None:
    with mock() as client:
        client.post("/_mock/documents", json={"validate": True})
        for _ in range(2):
            client.get("/_mock/credentials")  # two refresh tokens: masked, their keys would collide
        raw = client.get("/_mock/snapshot").json()
        assert client.post("/_mock/snapshot", json=raw).status_code == 200  # the story now starts from it
        bundle = read_bundle(client.get("/_mock/bundle").content)
        kept = read_bundle(client.get("/_mock/bundle", params={"redact": "false"}).content)
    assert "snapshot.json" in bundle.manifest["members"]
    assert "snapshot.json" not in bundle.manifest["left_out"]
    assert kept.snapshot == raw
    shared = bundle.snapshot
    assert shared["tables"]["refresh_tokens"]["rows"] == [] and raw["tables"]["refresh_tokens"]["rows"]
    assert "Given-1" in json.dumps(shared)
    with mock() as fresh:
        assert fresh.post("/_mock/snapshot", json=shared).status_code == 200
        assert fresh.get("/_mock/snapshot").json() == shared


def test_serve_load_refuses_an_integer_it_could_not_write_back(tmp_path: Path) -> None:
    with mock() as client:
        saved = client.get("/_mock/snapshot").json()
    saved["tables"]["documents"]["rows"][0][1]["_extra"] = 2**70  # json reads it exactly, orjson cannot write it
    file = tmp_path / "wide.json"
    file.write_text(json.dumps(saved))
    ports = ["--port", str(free_port()), "--files-port", str(free_port())]  # PORT + 1 may be taken
    result = CliRunner().invoke(main, ["serve", "--load", str(file), *ports])
    assert result.exit_code == 2 and "tables.documents.rows.0.1._extra" in result.output, result.output


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ({"id": "f1", "kind": "route", "params": {}, "remaining": 1, "created_at": 1}, "path"),
        ({"id": "f1", "kind": "route", "params": {"path": "/documents"}, "remaining": 1, "created_at": 1}, "status"),
        ({"id": "f1", "kind": "expire_tokens", "params": {}, "remaining": 1, "created_at": 1}, "kind"),
        ({"id": "f1", "kind": "duplicate", "params": {"copies": "two"}, "remaining": 1, "created_at": 1}, "copies"),
    ],
)
def test_an_armed_fault_its_kind_cannot_apply_is_refused(fault: dict[str, Any], field: str) -> None:
    with mock() as client:
        saved = client.get("/_mock/snapshot").json()
        saved["tables"]["meta"]["rows"] = [["faults", {"items": [fault]}]]
        answer = client.post("/_mock/snapshot", json=saved)
        assert answer.status_code == 400, answer.text
        paths = [v["propertyPath"] for v in answer.json()["violations"]]
        assert paths == [f"tables.meta.rows.0.1.items.0.{'kind' if field == 'kind' else 'params.' + field}"], paths
        assert client.get("/_mock/faults").json() == []
        good = {"id": "f2", "kind": "forged_signature", "params": {"count": 1, "mode": "wrong_secret"},
                "remaining": 1, "created_at": 1}
        saved["tables"]["meta"]["rows"] = [["faults", {"items": [good, fault]}]]
        assert client.post("/_mock/snapshot", json=saved).status_code == 400
        assert client.get("/_mock/credentials").json()["webhook_secret"] is None  # refused: signing not turned on
        saved["tables"]["meta"]["rows"] = [["faults", {"items": [good]}]]
        assert client.post("/_mock/snapshot", json=saved).status_code == 200
        assert [f["kind"] for f in client.get("/_mock/faults").json()] == ["forged_signature"]


def test_a_pending_delivery_keeps_the_faults_applied_to_it_and_needs_their_parameters() -> None:
    with mock(webhook_urls=(dead_url(),)) as client:
        client.post("/_mock/faults", json={"kind": "concurrent", "copies": 3})
        client.post("/_mock/documents", json={"validate": True})
        client.post("/_mock/settle")
        saved = client.get("/_mock/snapshot").json()
        delivery = saved["tables"]["deliveries"]["rows"][0][1]
        assert delivery["fault_params"]["concurrent"]["copies"] == 3 and len(delivery["attempts"]) == 3
        with mock() as fresh:
            assert fresh.post("/_mock/snapshot", json=saved).status_code == 200
            assert fresh.get("/_mock/snapshot").json() == saved
        delivery["fault_params"] = {"concurrent": {}}
        answer = client.post("/_mock/snapshot", json=saved)
        assert answer.status_code == 400
        field = answer.json()["violations"][0]["propertyPath"]
        assert field == "tables.deliveries.rows.0.1.fault_params.concurrent.copies"
