"""Smoke test of an installed wheel: run it with the python of a virtualenv that holds only the wheel.

Run from a directory outside the checkout, so nothing is read from the source tree::

    cd "$(mktemp -d)" && /path/to/venv/bin/python /path/to/checkout/.ci/smoke_wheel.py --checkout /path/to/checkout

Proves, through the installed ``askara-mock`` command: ``serve`` answers ``POST /webhooks`` 201 with
a token got the documented way (and serves the web page and the OpenAPI document, which read the
shipped files); ``scenario list`` lists every standard scenario of the checkout; ``conformance run``
passes against the reference integration (the only file taken from the checkout). Every step has a
time limit, everything started is stopped, and any failure exits 1 with what went wrong.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

import conformance
import mock_server

BIN = Path(sys.executable).parent
CLI = str(BIN / "askara-mock")
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")} | {"COLUMNS": "400"}


class SmokeFailure(Exception):
    """A step of the smoke test that did not hold."""


def step(message: str) -> None:
    print(f"smoke: {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_installed_outside(checkout: Path) -> None:
    """The packages must come from the venv, not from the checkout (no editable install, no path)."""
    for module in (mock_server, conformance):
        where = Path(module.__file__ or "").resolve()
        if where.is_relative_to(checkout):
            raise SmokeFailure(f"{module.__name__} is imported from the checkout ({where}), not from the wheel")
    if Path.cwd().resolve().is_relative_to(checkout):
        raise SmokeFailure(f"run me from outside the checkout, not from {Path.cwd()}")
    step(f"packages installed at {Path(mock_server.__file__ or '').parent.parent}")


@contextmanager
def serving(port: int, logs: Path) -> Iterator[str]:
    """``askara-mock serve`` on ``port`` until it answers; stopped (then killed) on exit."""
    with open(logs / "serve.log", "wb") as log:
        process = subprocess.Popen([CLI, "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=ENV)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SmokeFailure(f"askara-mock serve exited with {process.returncode}:\n{tail(logs / 'serve.log')}")
            try:
                httpx.get(f"{url}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SmokeFailure(
                        f"askara-mock serve did not answer in 30 s:\n{tail(logs / 'serve.log')}"
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def expect(response: httpx.Response, status: int, what: str) -> httpx.Response:
    if response.status_code != status:
        raise SmokeFailure(f"{what}: expected {status}, got {response.status_code}: {response.text[:2000]}")
    return response


def smoke_serve(logs: Path) -> None:
    port = free_port()
    with serving(port, logs) as url, httpx.Client(base_url=url, timeout=10) as client:
        credentials = expect(client.get("/_mock/credentials"), 200, "GET /_mock/credentials").json()
        token = expect(
            client.post(
                "/oauth2/token",
                json={
                    "grant_type": "refresh_token",
                    "refresh_token": credentials["refresh_token"],
                    "client_id": credentials["client_id"],
                    "client_secret": credentials["client_secret"],
                },
            ),
            200,
            "POST /oauth2/token (refresh_token grant)",
        ).json()["access_token"]
        hook = {"url": f"http://127.0.0.1:{port}/hook", "events": ["new_document"]}
        created = expect(
            client.post("/webhooks", json=hook, headers={"Authorization": f"Bearer {token}"}), 201, "POST /webhooks"
        ).json()
        if created.get("url") != hook["url"]:
            raise SmokeFailure(f"POST /webhooks answered {created}, not the webhook registered")
        page = expect(client.get("/_mock/ui"), 200, "GET /_mock/ui (the shipped ui.html)")
        if "<html" not in page.text.lower():
            raise SmokeFailure(f"GET /_mock/ui is not the web page: {page.text[:300]}")
        for asset in ("ui.css", "ui.js", "ui_timeline.js"):  # the page's files, shipped beside it
            expect(client.get(f"/_mock/ui/{asset}"), 200, f"GET /_mock/ui/{asset}")
        schemas = expect(client.get("/openapi.json"), 200, "GET /openapi.json").json()["components"]["schemas"]
        if "webhook" not in {name.lower() for name in schemas}:
            raise SmokeFailure(f"the OpenAPI document lacks the shipped schemas: {sorted(schemas)}")
    step(f"serve: POST /webhooks 201 (token from /oauth2/token), /_mock/ui + files, /openapi.json on port {port}")


def run_cli(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout, env=ENV)
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"askara-mock {' '.join(args)} took more than {timeout} s:\n{exc.stderr or ''}") from None


def smoke_scenario_list(checkout: Path) -> None:
    files = sorted((checkout / "conformance" / "scenarios").glob("*.yaml"))
    expected = {yaml.safe_load(path.read_text(encoding="utf-8"))["name"] for path in files}
    done = run_cli("scenario", "list", timeout=60)
    if done.returncode != 0:
        raise SmokeFailure(f"askara-mock scenario list exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    if not files or listed != expected:
        raise SmokeFailure(
            f"askara-mock scenario list: missing {sorted(expected - listed)}, unexpected {sorted(listed - expected)}"
        )
    step(f"scenario list: all {len(expected)} standard scenarios ({', '.join(sorted(expected))})")


def smoke_conformance(checkout: Path, logs: Path) -> None:
    reference = checkout / "tests" / "integrations" / "reference.py"
    port = free_port()
    data = logs / "reference-data"
    started = time.monotonic()
    done = run_cli(
        "conformance", "run", "--quiet",
        "--target-url", f"http://127.0.0.1:{port}/webhook",
        "--start", f"{sys.executable} {reference} --port {port} --data-dir {data}",
        "--timeout", "90",
        "--junit", str(logs / "conformance.xml"),
        timeout=120,
    )  # fmt: skip
    # The summary is on stdout (results), progress and logs on stderr.
    if done.returncode != 0 or "PASSED" not in done.stdout:
        raise SmokeFailure(f"askara-mock conformance run exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    summary = next((line for line in done.stdout.splitlines() if "PASSED" in line), "").strip()
    step(f"conformance run against the reference integration: {summary} ({time.monotonic() - started:.1f} s in all)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, required=True, help="the source tree (for the reference integration)")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    started = time.monotonic()
    try:
        check_installed_outside(checkout)
        with tempfile.TemporaryDirectory(prefix="askara-smoke-") as temp:
            logs = Path(temp)
            smoke_serve(logs)
            smoke_scenario_list(checkout)
            smoke_conformance(checkout, logs)
    except (SmokeFailure, httpx.HTTPError, KeyError, ValueError) as exc:
        print(f"smoke: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    step(f"the installed wheel works ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
