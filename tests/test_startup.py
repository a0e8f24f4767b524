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
from pathlib import Path

import click
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
    # The control-API client speaks http.client: httpx (and httpcore) cost half a command's start-up.
    assert "mock_server.app" not in modules and not top_level(modules) & {"httpx", "httpcore"}, result.stderr
    assert "rich" not in top_level(modules)  # piped: plain lines, no rich


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
    """``serve`` answers sooner when what only a download, a token, ``--tls``, a bundle or a client
    command needs waits for them: cryptography (``core/tls.py``), PyYAML (``support/bundle.py``)
    and httpx (the control-API client, once reached through the banner and ``cli/snapshot.py``).
    Neither does it load the system's CA store (~20 ms) before an ``https`` delivery, SQLite before
    ``--state``, the package's files before one is read, nor its metadata before an export."""
    code = (
        "import sys; from mock_server import Settings, create_app; app = create_app(Settings());"
        "import mock_server.cli.serve;"
        "print(sorted({m.split('.')[0] for m in sys.modules if sys.modules[m] is not None}"
        " & {'faker', 'fpdf', 'hypothesis', 'conformance', 'cryptography', 'yaml', 'httpx', 'jwt', 'jsonschema',"
        " 'sqlite3', 'xml'}),"
        " sorted({'importlib.metadata', 'importlib.resources'} & set(sys.modules)),"
        " app.state.mock.tokens._key is None, app.state.mock.sender.transport._ssl is None)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["[]", "[]", "True", "True"], result.stderr


def test_what_was_made_lazy_still_loads_when_used(tmp_path: Path) -> None:
    """The other side: issuing a certificate and writing a bundle import what they need themselves."""
    code = (
        "import sys, pathlib; from mock_server.core.tls import issue; from mock_server.support.bundle import"
        " Bundle, read_bundle, write_bundle; from mock_server.support.redact import Redactor;"
        f"files = issue(pathlib.Path({str(tmp_path)!r}), ['localhost']);"
        "data = write_bundle(Bundle({}, scenario={'name': 'x'}), Redactor(enabled=False));"
        "print(pathlib.Path(files.cert).read_text().startswith('-----BEGIN CERTIFICATE'),"
        " read_bundle(data).scenario, 'cryptography' in sys.modules, 'yaml' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["True", "{'name':", "'x'}", "True", "True"], result.stderr


def test_help_lists_the_commands_without_importing_them() -> None:
    """``--help`` once imported every command (the server, the harness: ~0.7 s of CPU) for one line each."""
    from mock_server.cli.main import COMMANDS

    result, modules = modules_after("--help")
    assert result.returncode == 0, result.stderr
    assert not top_level(modules) & {*SERVER_ONLY, *HARNESS, "httpx"}, result.stderr
    assert not modules & {target.split(":")[0] for target in COMMANDS.values()}


def _fresh_group() -> click.Group:
    from mock_server.cli.main import COMMANDS, LazyGroup, main

    return LazyGroup(name="askara-mock", lazy=COMMANDS, plugins=main.plugins)  # no plugin loaded yet


def test_the_help_table_is_each_commands_own_first_sentence() -> None:
    from mock_server.cli.main import SHORT_HELP

    group = _fresh_group()
    context = click.Context(group, info_name="askara-mock")
    commands = {name: group.get_command(context, name) for name in group.list_commands(context)}
    assert set(SHORT_HELP) == set(commands), "a command was added or removed: update SHORT_HELP in cli/main.py"
    for name, command in commands.items():
        assert command is not None and not command.hidden and not command.short_help
        assert SHORT_HELP[name] == command.get_short_help_str(limit=10**6), name


@pytest.mark.parametrize("width", [40, 60, 80, 120, 400])
def test_help_from_the_table_reads_as_from_the_commands(width: int) -> None:
    """The listing from the table, shortened to the terminal's width, is click's own listing."""
    lazy, eager = _fresh_group(), _fresh_group()
    from_table, from_commands = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
    lazy.format_commands(click.Context(lazy, info_name="askara-mock"), from_table)
    click.Group.format_commands(eager, click.Context(eager, info_name="askara-mock"), from_commands)
    assert from_table.getvalue() == from_commands.getvalue()
    assert not lazy.commands, "the table's listing loaded a plugin"


def test_serve_freezes_the_seeded_heap_and_keeps_young_generations_small() -> None:
    code = (
        "import gc; from mock_server import Settings, create_app; from mock_server.serving import GC_THRESHOLDS,"
        " tune_gc; app = create_app(Settings()); garbage = gc.collect(); tune_gc(); print(garbage < 100,"
        " gc.get_freeze_count() > 10_000,"
        " gc.get_threshold() == GC_THRESHOLDS, GC_THRESHOLDS[0] <= 2_000)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    # tune_gc freezes without collecting first: next to nothing to collect once the mock is built (0-5 objects)
    assert result.stdout.split() == ["True", "True", "True", "True"], result.stderr
