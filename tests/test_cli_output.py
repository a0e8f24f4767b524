"""What the client commands print: plain lines when piped, ``--json`` everywhere, honest exit statuses.

Against a real mock served on loopback; webhook receivers are :class:`ScriptedReceiver` run on
the mock's own event loop (``running.call``), so no extra thread or sleep is needed.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mock_server.cli import main, output
from mock_server.cli.control_client import EXIT_NO_SUBSCRIBER, EXIT_STILL_PENDING
from mock_server.core.vocabulary import EVENT_NAMES
from mock_server.serving import RunningMock
from mock_server.testing.receiver import ScriptedReceiver
from mock_server.testing.sender import add_webhook

NARROW = {"COLUMNS": "80"}


@pytest.fixture
def running(live_mock: Callable[..., RunningMock]) -> RunningMock:
    return live_mock()


@pytest.fixture
def receiver(running: RunningMock) -> Iterator[ScriptedReceiver]:
    rx = ScriptedReceiver()
    running.call(rx.__aenter__)
    yield rx
    running.call(rx.close)


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that takes connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


def run(mock: RunningMock, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--mock-url", mock.url], env=NARROW)


def columns_of(line: str) -> list[str]:
    """Plain output's columns: two spaces or more separate them."""
    return re.split(r"  +", line.strip())


def settle(mock: RunningMock) -> None:
    mock.call(mock.context.timers.settle)


# -- trigger without a subscriber -----------------------------------------------------------------


def test_trigger_without_a_subscribed_webhook_exits_4_and_says_why(running: RunningMock) -> None:
    result = run(running, "trigger", "new_document")
    assert result.exit_code == EXIT_NO_SUBSCRIBER == 4
    assert "No active webhook is subscribed to new_document" in result.stderr and "listen" in result.stderr
    assert result.stdout.splitlines()[0].split() == ["document", "type", "patient", "event"]  # it did fire
    as_json = run(running, "trigger", "new_note", "--json")
    assert as_json.exit_code == 4 and json.loads(as_json.stdout)[0]["event"]["payload"]["action"] == "new_note"
    add_webhook(running.context, "http://127.0.0.1:9/hook", ["new_note"], active=False)
    add_webhook(running.context, "http://127.0.0.1:9/hook", ["document_synchronize"])
    assert run(running, "trigger", "new_note").exit_code == 4  # inactive, or another event: nobody gets it
    add_webhook(running.context, "http://127.0.0.1:9/hook", ["new_note"])
    assert run(running, "trigger", "new_note").exit_code == 0


# -- plain output ---------------------------------------------------------------------------------


def test_plain_output_at_80_columns_truncates_nothing(running: RunningMock) -> None:
    hook = add_webhook(running.context, "http://127.0.0.1:9/a-rather-long-path/that/goes/on/webhook", ["new_document"])
    created = json.loads(run(running, "trigger", "new_document", "--count", "2", "--json").stdout)
    settle(running)
    table = run(running, "deliveries")
    assert table.exit_code == 0 and "Deliveries (2 of 2)" in table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split("  ")[0] == "id" and len(rows) == 2 and "…" not in table.stdout
    for row, delivery in zip(rows, running.context.store.deliveries.values(), strict=True):
        cells = columns_of(row)
        assert cells[:4] == [delivery["id"], delivery["state"], "new_document", hook["url"]]
    triggered = run(running, "trigger", "new_document").stdout.splitlines()[1]
    assert triggered.split("  ")[0] in {d["uuid"] for d in running.context.store.documents}
    credentials = run(running, "credentials").stdout
    lines = dict(line.split(None, 1) for line in credentials.splitlines())
    assert len(lines["access_token"].strip()) > 300 and " " not in lines["access_token"].strip()
    assert {a["document"]["uuid"] for a in created} <= {d["uuid"] for d in running.context.store.documents}


def test_on_a_narrow_terminal_records_become_blocks(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(output, "is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "80")
    record = {"id": "dlv_" + "a" * 32, "url": "http://127.0.0.1:9000/" + "x" * 60, "state": "delivered"}
    columns = [output.field(name, name) for name in ("id", "state", "url")]
    output.print_table("Deliveries", [record], columns)
    printed = capsys.readouterr().out
    assert "…" not in printed and record["url"] in printed and record["id"] in printed
    assert any(line.startswith("state") and line.split()[-1] == "delivered" for line in printed.splitlines())
    monkeypatch.setenv("COLUMNS", "200")
    output.print_table("Deliveries", [record], columns)
    assert "┃" in capsys.readouterr().out  # it fits: a table


# -- --json on every command ----------------------------------------------------------------------


def test_json_on_every_client_command_parses(running: RunningMock, receiver: ScriptedReceiver) -> None:
    add_webhook(running.context, receiver.url("/ok"), list(EVENT_NAMES))
    [created] = json_of(running, "trigger", "new_document")
    settle(running)
    [delivery] = json_of(running, "deliveries")["items"]
    commands: list[tuple[str, ...]] = [
        ("trigger", "new_note"),
        ("trigger", "document_synchronize", "--document", created["document"]["uuid"]),
        ("clock", "show"),
        ("clock", "advance", "1"),
        ("deliveries",),
        ("deliveries", "--state", "delivered"),
        ("failures",),
        ("redeliver", delivery["id"]),
        ("redeliver", delivery["id"], "--wait", "0"),
        ("credentials",),
        ("fault", "download", "-p", "mode=truncate"),
        ("fault", "list"),
        ("fault", "kinds"),
        ("fault", "clear"),
    ]
    for command in commands:
        assert json_of(running, *command) is not None, command


def json_of(mock: RunningMock, *args: str) -> Any:
    result = run(mock, *args, "--json")
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.stdout)


# -- redeliver ------------------------------------------------------------------------------------


def test_redeliver_prints_the_record_after_the_new_attempt(running: RunningMock, receiver: ScriptedReceiver) -> None:
    hook = add_webhook(running.context, receiver.url("/status/500"), ["new_note"])
    json_of(running, "trigger", "new_note")
    settle(running)
    [delivery] = running.context.store.deliveries.values()
    assert delivery["state"] == "pending" and delivery["attempts"][-1]["status"] == 500
    hook["url"] = receiver.url("/ok")
    record = json_of(running, "redeliver", delivery["id"])
    assert record["state"] == "delivered" and len(record["attempts"]) == 2
    assert record["attempts"][-1]["kind"] == "redeliver" and record["attempts"][-1]["status"] == 200
    plain = run(running, "redeliver", delivery["id"])
    assert plain.exit_code == 0 and "attempt 3 answered 200" in plain.stderr
    [row] = plain.stdout.splitlines()[1:]
    cells = columns_of(row)
    assert cells[0] == delivery["id"] and cells[1] == "delivered" and cells[4:6] == ["3", "200"]


def test_redeliver_whose_attempt_is_still_running_exits_5(running: RunningMock, receiver: ScriptedReceiver,
                                                          silent_url: str) -> None:
    hook = add_webhook(running.context, receiver.url("/status/500"), ["new_note"])
    json_of(running, "trigger", "new_note")
    settle(running)
    [delivery] = running.context.store.deliveries.values()
    hook["url"] = silent_url
    result = run(running, "redeliver", delivery["id"], "--wait", "0.3")
    assert result.exit_code == EXIT_STILL_PENDING == 5
    assert "still running after 0.3 s" in result.stderr
    assert len(json.loads(run(running, "deliveries", "--json").stdout)["items"][0]["attempts"]) == 1
    scheduled = run(running, "redeliver", delivery["id"], "--wait", "0", "--json")
    assert json.loads(scheduled.stdout)["redelivery"]["status"] == "scheduled"
