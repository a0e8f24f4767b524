"""Shared fixtures: in-process clients, mocks served by uvicorn on loopback, and the end-to-end
CLI runs that several tests only read (made once per session, whatever the number of xdist workers)."""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, Verbosity, settings
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.core.tokens import KNOWN_SCOPES
from mock_server.serving import RunningMock, free_port, serve_in_thread

settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("debug", max_examples=10, deadline=None, verbosity=Verbosity.debug)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

TEST_SECRET = "test-client-secret"
ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "integrations" / "reference.py"
CLI = Path(sys.executable).parent / "askara-mock"


@functools.cache
def test_signing_key() -> str:
    """One RSA key for every mock the tests build: generating one costs ~0.2 s per app."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def make_settings(**overrides: object) -> Settings:
    base: dict[str, object] = {
        "client_secret": TEST_SECRET,
        "clock": "manual",
        "clock_start": 1_780_000_000.0,
        "signing_key_pem": test_signing_key(),
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture
def mock_settings() -> Settings:
    return make_settings()


@pytest.fixture
def client(mock_settings: Settings) -> Iterator[TestClient]:
    """An in-process client of a fresh mock (lifespan run), manual clock."""
    with TestClient(create_app(mock_settings), base_url=mock_settings.base_url) as test_client:
        yield test_client


@pytest.fixture
def app_client() -> Iterator[Callable[..., TestClient]]:
    """Factory: ``app_client(**settings_overrides)`` gives an in-process client of a new mock."""
    with ExitStack() as stack:

        def factory(**overrides: object) -> TestClient:
            settings = make_settings(**overrides)
            return stack.enter_context(TestClient(create_app(settings), base_url=settings.base_url))

        yield factory


@pytest.fixture
def live_mock() -> Iterator[Callable[..., RunningMock]]:
    """Factory: ``live_mock(**settings_overrides)`` serves a new mock with uvicorn on a free loopback port."""
    with ExitStack() as stack:

        def factory(**overrides: object) -> RunningMock:
            return stack.enter_context(serve_in_thread(make_settings(**overrides)))

        yield factory


@contextmanager
def serve_process(*args: str) -> Iterator[dict[str, Any]]:
    """``askara-mock serve --json ARGS`` in a process of its own, as users start it; yields its banner
    once it is ready (the banner is printed after the sockets are bound), and stops it on exit."""
    process = subprocess.Popen([sys.executable, "-c", "from mock_server.cli import main; main()", "serve", "--json",
                                *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        if not line:
            _, errors = process.communicate(timeout=10)
            raise AssertionError(errors or "serve printed nothing")
        yield json.loads(line)
    finally:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=10)  # reads and closes both pipes


def ctx_of(client: TestClient) -> Any:
    """The MockContext behind an in-process client (the seed always has one consenting clinician)."""
    return client.app.state.mock  # type: ignore[attr-defined]


def access_token(client: TestClient, scope: str | None = None) -> str:
    """A fresh access token for the seeded clinician, through the real refresh grant."""
    ctx = client.app.state.mock  # type: ignore[attr-defined]
    scopes = scope.split() if scope else list(KNOWN_SCOPES)
    user = ctx.store.users.values()[0]
    pair = ctx.tokens.issue_pair(ctx.settings.client_id, user["uuid"], scopes)
    return str(pair["access_token"])


# -- end-to-end runs that several tests read -----------------------------------------------------


def run_once(tmp_path_factory: pytest.TempPathFactory, name: str, produce: Callable[[Path], None]) -> Path:
    """``produce(directory)`` once per session: under xdist the first worker to ask runs it while
    holding a file lock in the session's shared temporary directory, the others wait and read what
    it wrote. Only for results that tests read and never change."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = root / f"shared-{name}"
    with (root / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / ".done").exists():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            produce(out)
            (out / ".done").touch()
    return out


def conformance_cli(out: Path, *args: str, timeout: float = 150) -> None:
    """``askara-mock conformance run ARGS`` through the real CLI, every report written to
    ``out/reports`` (a directory the CLI must create); the summary (stdout) goes to
    ``out/terminal.txt``, the progress and logs (stderr) to ``out/log.txt``, the exit code and the
    arguments to ``out/run.json``."""
    reports = out / "reports"
    done = subprocess.run(
        [
            str(CLI), "conformance", "run", *args,
            "--json", str(reports / "report.json"), "--junit", str(reports / "junit.xml"),
            "--html", str(reports / "report.html"),
        ],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env={**os.environ, "COLUMNS": "400"},  # one line per message, whatever the terminal
    )  # fmt: skip
    (out / "terminal.txt").write_text(done.stdout, encoding="utf-8")
    (out / "log.txt").write_text(done.stderr, encoding="utf-8")
    (out / "run.json").write_text(json.dumps({"args": list(args), "exit_code": done.returncode}), encoding="utf-8")


def reference_command(port: int, data_dir: Path, *defects: str) -> str:
    command = f"{sys.executable} {REFERENCE} --port {port} --data-dir {data_dir}"
    return command + "".join(f" --defect {defect}" for defect in defects)


@pytest.fixture(scope="session")
def never_confirm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference with ``never-confirm`` on ``basics``: a failed run (exit 1), with its reports."""

    def produce(out: Path) -> None:
        port = free_port()
        conformance_cli(
            out, "--target-url", f"http://127.0.0.1:{port}/webhook",
            "--start", reference_command(port, out / "data", "never-confirm"), "--scenario", "basics",
            "--timeout", "5",  # bounds the wait for reports that never come
        )  # fmt: skip

    return run_once(tmp_path_factory, "never-confirm", produce)


@pytest.fixture(scope="session")
def nothing_listens_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No start command and nothing on the target port: a run that could not be made (exit 2)."""

    def produce(out: Path) -> None:
        conformance_cli(out, "--target-url", f"http://127.0.0.1:{free_port()}/webhook", "--scenario", "basics")

    return run_once(tmp_path_factory, "nothing-listens", produce)


@pytest.fixture(scope="session")
def reference_suite_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The correct reference over the whole standard webhook suite, signatures on (exit 0)."""

    def produce(out: Path) -> None:
        port = free_port()
        conformance_cli(
            out, "--target-url", f"http://127.0.0.1:{port}/webhook",
            "--start", reference_command(port, out / "data") + " --verify-signatures", "--signatures",
            "--timeout", "90",
        )  # fmt: skip

    return run_once(tmp_path_factory, "reference-suite", produce)


def cli_log(out: Path) -> str:
    """What a shared CLI run wrote on stderr: its live progress and logs."""
    return (out / "log.txt").read_text(encoding="utf-8")


def cli_run(out: Path) -> tuple[int, str, list[str]]:
    """What a shared CLI run left: its exit code, its summary (stdout) and its arguments."""
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return int(run["exit_code"]), (out / "terminal.txt").read_text(encoding="utf-8"), list(run["args"])
