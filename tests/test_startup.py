"""A client command imports only what it needs: no server, no harness, no data generator.

Each check runs the real command in a fresh interpreter (the console script's entry point,
``mock_server.cli:main``) against a stub control API on loopback, then lists ``sys.modules``:
an import that sneaks back in (a package ``__init__`` importing the app, a plugin loaded eagerly,
httpx's own CLI) fails here by name, where a timing would only drift.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SERVER_ONLY = ("starlette", "uvicorn", "faker", "fpdf", "jsonschema", "jwt", "cryptography", "yaml")
HARNESS = ("hypothesis", "conformance")
RUN_AND_LIST = """
import json, sys
from mock_server.cli import main
try:
    main(sys.argv[1:], prog_name="askara-mock")
except SystemExit as exit:
    code = exit.code
sys.stderr.write("\\nMODULES " + json.dumps(sorted(n for n, m in sys.modules.items() if m is not None)) + "\\n")
sys.exit(code)
"""


class _Stub(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        answer = [] if self.path.startswith("/_mock/faults") else {"items": [], "totalItems": 0}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass


@pytest.fixture
def stub_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def modules_after(*argv: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    result = subprocess.run([sys.executable, "-c", RUN_AND_LIST, *argv], capture_output=True, text=True, timeout=60)
    marker = result.stderr.rpartition("\nMODULES ")[2]
    return result, set(json.loads(marker))


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize("command", [("deliveries",), ("failures",), ("clock", "show"), ("fault", "list")])
def test_a_client_command_imports_neither_server_nor_harness(stub_url: str, command: tuple[str, ...]) -> None:
    result, modules = modules_after(*command, "--mock-url", stub_url)
    assert result.returncode in (0, 1), result.stderr
    assert not top_level(modules) & {*SERVER_ONLY, *HARNESS}, result.stderr
    assert "mock_server.app" not in modules and "httpx" in modules
    assert "httpx._main" not in modules and "rich" not in top_level(modules)  # piped: plain lines, no rich


def test_the_harness_still_joins_when_asked() -> None:
    result, modules = modules_after("conformance", "--help")
    assert result.returncode == 0, result.stderr
    assert "conformance.cli" in modules and "run" in result.stdout


def test_help_lists_the_plugin_commands_too() -> None:
    result, _ = modules_after("--help")
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split("Commands:")[1].split()
    assert {"serve", "deliveries", "conformance", "scenario"} <= set(listed)


def test_the_package_names_stay_importable_lazily() -> None:
    code = (
        "import sys, mock_server; assert 'mock_server.app' not in sys.modules;"
        "from mock_server import Settings, create_app; print(create_app.__module__, Settings.__module__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["mock_server.app", "mock_server.core.settings"], result.stderr


def test_serving_starts_without_faker_fpdf_or_a_fresh_key() -> None:
    """``serve`` answers sooner when what only a download or a token needs waits for them."""
    code = (
        "import sys; from mock_server import Settings, create_app; app = create_app(Settings());"
        "import mock_server.cli.serve;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'faker', 'fpdf', 'hypothesis', 'conformance'}),"
        " app.state.mock.tokens._key is None)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["[]", "True"], result.stderr
