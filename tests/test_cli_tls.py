"""The CLI over HTTPS: ``serve --tls`` from the command line, and client commands that trust its CA."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import serve_process

from mock_server.cli import main
from mock_server.serving import RunningMock, free_port


def test_client_commands_trust_the_ca_given_with_mock_ca(live_mock: Callable[..., RunningMock]) -> None:
    mock = live_mock(tls=True)
    trusted = CliRunner().invoke(main, ["clock", "show", "--json", "--mock-url", mock.url, "--mock-ca", mock.ca_file])
    assert trusted.exit_code == 0, trusted.output
    assert json.loads(trusted.output)["mode"] == mock.settings.clock
    from_env = CliRunner().invoke(main, ["deliveries", "--json", "--mock-url", mock.url],
                                  env={"ASKARA_MOCK_CA": mock.ca_file})
    assert from_env.exit_code == 0, from_env.output


def test_without_the_ca_a_client_command_says_it_cannot_reach_the_mock(live_mock: Callable[..., RunningMock]) -> None:
    mock = live_mock(tls=True)
    result = CliRunner().invoke(main, ["clock", "show", "--mock-url", mock.url], env={"ASKARA_MOCK_CA": None})
    assert result.exit_code == 3
    assert "CERTIFICATE_VERIFY_FAILED" in result.output


def test_bundle_export_goes_through_the_client_with_its_ca(live_mock: Callable[..., RunningMock],
                                                           tmp_path: Path) -> None:
    mock = live_mock(tls=True)
    target = tmp_path / "b.zip"
    result = CliRunner().invoke(main, ["bundle", "export", "-o", str(target), "--mock-url", mock.url,
                                       "--mock-ca", mock.ca_file])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:2] == b"PK"


def _clock_show(banner: dict, ca: str) -> subprocess.CompletedProcess[str]:  # type: ignore[type-arg]
    deadline = time.monotonic() + 30
    while True:
        done = subprocess.run([sys.executable, "-c", "from mock_server.cli import main; main()", "clock", "show",
                               "--mock-url", banner["mock_url"], "--mock-ca", ca], capture_output=True, text=True)
        if done.returncode != 3 or time.monotonic() > deadline:  # 3: not listening yet
            return done
        time.sleep(0.1)


@pytest.mark.e2e
def test_serve_tls_from_the_command_line_then_with_its_own_cert_and_key(tmp_path: Path) -> None:
    port = free_port()
    with serve_process("--tls", "--tls-dir", str(tmp_path), "--port", str(port),
                       "--files-port", str(free_port())) as banner:
        assert banner["mock_url"] == f"https://127.0.0.1:{port}"
        assert banner["tls"]["ca_file"] == str(tmp_path / "ca.pem")
        assert f"--mock-ca {tmp_path / 'ca.pem'}" in banner["next"][-1]
        done = _clock_show(banner, banner["tls"]["ca_file"])
        assert done.returncode == 0, done.stderr

    with serve_process("--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem"),
                       "--port", str(port), "--files-port", str(free_port())) as banner:
        assert banner["mock_url"].startswith("https://") and banner["tls"]["cert"] == str(tmp_path / "cert.pem")
        done = _clock_show(banner, str(tmp_path / "ca.pem"))
        assert done.returncode == 0, done.stderr


@pytest.mark.e2e
def test_conformance_run_serves_its_mock_over_https_and_the_integration_trusts_it(tmp_path: Path) -> None:
    from conftest import conformance_cli, reference_command

    port = free_port()
    conformance_cli(tmp_path, "--target-url", f"http://127.0.0.1:{port}/webhook", "--mock-tls",
                    "--start", reference_command(port, tmp_path / "data"), "--scenario", "basics")
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert json.loads((tmp_path / "run.json").read_text())["exit_code"] == 0, (tmp_path / "log.txt").read_text()
    assert report["mock_url"].startswith("https://127.0.0.1:")
    assert report["verdict"] == "passed"
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses["always-confirm"] == "passed" and statuses["ack-within-5s"] == "passed"


def test_the_integration_is_told_the_mock_ca_under_the_usual_names(tmp_path: Path) -> None:
    from conformance.mockstart import REPLACING_VARIABLES, MockEndpoint, system_bundle_with
    from mock_server.core.tls import issue

    files = issue(tmp_path, ["127.0.0.1"])
    assert files.ca is not None
    bundle = system_bundle_with(files.ca, tmp_path)
    env = MockEndpoint("https://127.0.0.1:1", files.ca, bundle).trust_env()
    assert env["ASKARA_CA_FILE"] == env["NODE_EXTRA_CA_CERTS"] == files.ca
    assert all(env[name] == bundle for name in REPLACING_VARIABLES)
    assert Path(files.ca).read_text() in Path(bundle).read_text()  # the mock's CA, after the system's
    assert MockEndpoint("http://127.0.0.1:1").trust_env() == {}
