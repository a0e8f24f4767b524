"""schemathesis's own command line, every check and every phase (stateful included), against live mocks.

tests/test_schemathesis.py fuzzes in process with the checks it picks; this is the run a vendor or a
reviewer would make: ``st run --checks all`` over loopback, bounded (a few examples per operation and
a time budget), with a fixed seed so CI is repeatable (``ASKARA_ST_SEED`` explores another). The
public API and the files origin are fuzzed with a bearer token of their mock; the control API on a
mock of its own with its own credentials (a control token), so a fuzzed reset or clock move never
spoils the public run's token. The only accepted answers are in tests/tools/schemathesis.toml,
each with its reason. Zero findings is the bar.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import make_settings, serve_process

from mock_server.serving import free_port, serve_in_thread
from mock_server.web.openapi import CONTROL_TAG

CONFIG = Path(__file__).parent / "tools" / "schemathesis.toml"
SEED = os.environ.get("ASKARA_ST_SEED", "1")
CONTROL_TOKEN = "control-fuzz-token-0123456789"


def st_run(url: str, token: str, *selection: str, max_examples: int, tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("st")), "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
        "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", str(max_examples),
        "--seed", SEED, "--workers", "1", "--request-timeout", "10",
        "--header", f"Authorization: Bearer {token}", "--report-dir", str(tmp_path), *selection,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path,
                          env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"})
    assert done.returncode == 0, done.stdout[-12000:] + done.stderr[-2000:]
    assert "Stateful" in done.stdout, done.stdout[-2000:]


@pytest.mark.e2e
@pytest.mark.timeout(300)  # about 45 s alone; the coverage phase's boundary cases are most of it
def test_public_api_and_files_origin_have_no_finding(tmp_path: Path) -> None:
    # Served as users start it. A manual clock: the token and the links stay valid for the whole run;
    # no rate limit in the way.
    with serve_process("--clock", "manual", "--rate-limit-capacity", "1000000", "--port", str(free_port()),
                       "--files-port", str(free_port())) as banner:
        url = banner["mock_url"]
        token = httpx.get(f"{url}/_mock/credentials", timeout=10).json()["access_token"]
        st_run(url, token, "--exclude-tag", CONTROL_TAG, max_examples=5, tmp_path=tmp_path)


@pytest.mark.e2e
def test_control_api_fuzzed_with_its_own_credentials_has_no_finding(tmp_path: Path) -> None:
    with serve_in_thread(make_settings(control_token=CONTROL_TOKEN)) as mock:
        refused = httpx.get(f"{mock.url}/_mock/clock", timeout=10)
        assert refused.status_code == 401  # the credentials are needed: the fuzzer really used them
        # POST /_mock/snapshot loads webhooks by design: fuzzed ones would send deliveries off this machine
        # (its own fuzz, on loopback, is in tests/test_snapshot.py).
        st_run(mock.url, CONTROL_TOKEN, "--include-tag", CONTROL_TAG, "--exclude-operation-id", "controlLoadSnapshot",
               max_examples=10, tmp_path=tmp_path)
