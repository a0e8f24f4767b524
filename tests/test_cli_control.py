"""The control-API client commands of ``askara-mock``, run against a real mock served on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mock_server.cli import main
from mock_server.cli.client import parse_params
from mock_server.core.vocabulary import EVENT_NAMES
from mock_server.serving import RunningMock, free_port
from mock_server.testing.sender import add_webhook

WIDE = {"COLUMNS": "200"}


@pytest.fixture
def running(live_mock: Callable[..., RunningMock]) -> RunningMock:
    return live_mock()


def run(mock: RunningMock | str, *args: str, env: dict[str, str] | None = None) -> Result:
    url = mock if isinstance(mock, str) else mock.url
    return CliRunner().invoke(main, [*args, "--mock-url", url], env={**WIDE, **(env or {})})


def run_json(mock: RunningMock, *args: str, code: int = 0) -> Any:
    result = run(mock, *args, "--json")
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def subscribe(mock: RunningMock, events: list[str] | None = None) -> None:
    """A webhook nobody listens on, so that ``trigger`` has a subscriber (exit 0)."""
    add_webhook(mock.context, f"http://127.0.0.1:{free_port()}/hook", events or list(EVENT_NAMES))


# -- reaching the mock ----------------------------------------------------------------------------


def test_unreachable_mock_exits_3_naming_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run(url, "fault", "list")
    assert result.exit_code == 3
    assert url in result.stderr and "askara-mock serve" in result.stderr
    assert result.stdout == ""


def test_mock_url_from_the_environment(running: RunningMock) -> None:
    result = CliRunner().invoke(main, ["fault", "list", "--json"], env={"ASKARA_MOCK_URL": running.url})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


# -- faults ---------------------------------------------------------------------------------------


def test_fault_inject_list_clear(running: RunningMock) -> None:
    result = run(running, "fault", "route", "-p", "path=/documents", "--param", "status=503", "-p", "count=2")
    assert result.exit_code == 0, result.output
    assert "Fault injected" in result.stderr and "path=/documents" in result.stdout and "status=503" in result.stdout
    [record] = run_json(running, "fault", "list")
    assert record["kind"] == "route" and record["params"] == {"path": "/documents", "status": 503, "count": 2}
    assert record["id"] in run(running, "fault", "list").stdout
    cleared = run(running, "fault", "clear", record["id"])
    assert cleared.exit_code == 0 and "Cleared 1" in cleared.stdout
    assert "none" in run(running, "fault", "list").stderr


def test_fault_json_output_is_the_record(running: RunningMock) -> None:
    record = run_json(running, "fault", "download", "-p", "mode=truncate")
    assert record["kind"] == "download" and record["remaining"] == 1
    assert run_json(running, "fault", "clear") == {"cleared": 1}


def test_immediate_fault_applies_now(running: RunningMock) -> None:
    record = run_json(running, "fault", "drain_bucket")
    assert record["remaining"] == 0 and record["params"] == {"client_id": "askara-mock-client"}
    assert running.context.rate_limiter.snapshot()["client:askara-mock-client"]["remaining"] == 0


def test_fault_refused_prints_the_violations_and_exits_1(running: RunningMock) -> None:
    result = run(running, "fault", "route", "-p", "path=documents", "-p", "status=503")
    assert result.exit_code == 1
    assert "422" in result.stderr and "- path:" in result.stderr
    unknown = run(running, "fault", "meteor")
    assert unknown.exit_code == 1
    assert "meteor" in unknown.stderr and "expire_tokens" in unknown.stderr


def test_fault_kinds(running: RunningMock) -> None:
    assert "expired_link" in run_json(running, "fault", "kinds")
    assert "drain_bucket" in run(running, "fault", "kinds").stdout.splitlines()


def test_fault_clear_unknown_id_exits_1(running: RunningMock) -> None:
    result = run(running, "fault", "clear", "flt_nope")
    assert result.exit_code == 1 and "404" in result.stderr and "flt_nope" in result.stderr


def test_bad_param_syntax_is_a_usage_error(running: RunningMock) -> None:
    assert run(running, "fault", "route", "-p", "path").exit_code == 2


def test_param_values_parse_as_json_when_they_can() -> None:
    assert parse_params(["count=3", "latency=0.5", "path=/documents", "flag=true", "empty="]) == {
        "count": 3,
        "latency": 0.5,
        "path": "/documents",
        "flag": True,
        "empty": "",
    }


# -- clock and credentials ------------------------------------------------------------------------


def test_clock_show_and_advance(running: RunningMock) -> None:
    before = run_json(running, "clock", "show")["now"]
    after = run_json(running, "clock", "advance", "30")
    assert after["now"] == before + 30
    table = run(running, "clock", "advance", "5")
    assert table.exit_code == 0 and "Mock clock" in table.stderr and "manual" in table.stdout
    assert run(running, "clock", "advance", "-5").exit_code == 2


def test_credentials_table_and_json(running: RunningMock) -> None:
    answer = run_json(running, "credentials")
    assert answer["client_id"] == "askara-mock-client" and answer["refresh_token"]
    table = run(running, "credentials")
    assert table.exit_code == 0 and "askara-mock-client" in table.stdout and "client_secret" in table.stdout


# -- trigger --------------------------------------------------------------------------------------


def test_trigger_new_document(running: RunningMock) -> None:
    subscribe(running)
    answers = run_json(running, "trigger", "new_document", "--count", "2")
    assert len(answers) == 2
    assert all(
        a["document"]["state"] == "verified" and a["event"]["payload"]["action"] == "new_document" for a in answers
    )
    table = run(running, "trigger", "new_document")
    assert table.exit_code == 0 and "Triggered new_document" in table.stderr and "goes to 1 webhook" in table.stderr


def test_trigger_document_synchronize_picks_the_newest_validated(running: RunningMock) -> None:
    subscribe(running)
    [created] = run_json(running, "trigger", "new_document")
    uuid = created["document"]["uuid"]
    [synced] = run_json(running, "trigger", "document_synchronize")
    assert synced["document"]["uuid"] == uuid
    assert synced["event"]["payload"]["action"] == "document_synchronize"
    again = run(running, "trigger", "document_synchronize", "--document", uuid)
    assert again.exit_code == 1 and "429" in again.stderr  # the Synchronize button's 30 s limit


def test_trigger_new_note(running: RunningMock) -> None:
    subscribe(running, ["new_note"])
    [answer] = run_json(running, "trigger", "new_note")
    assert answer["event"]["payload"]["action"] == "new_note"


def test_trigger_document_only_with_synchronize(running: RunningMock) -> None:
    assert run(running, "trigger", "new_note", "--document", "x").exit_code == 2
    assert run(running, "trigger", "tea_time").exit_code == 2


# -- deliveries -----------------------------------------------------------------------------------


def test_deliveries_failures_and_redeliver(running: RunningMock) -> None:
    """A webhook nobody listens on: the delivery fails, is retried, lands in the failure queue."""
    add_webhook(running.context, f"http://127.0.0.1:{free_port()}/hook", ["new_document"])
    settle = running.context.timers.settle
    assert run_json(running, "deliveries")["items"] == []
    assert "none yet" in run(running, "deliveries").stderr
    [created] = run_json(running, "trigger", "new_document")
    running.call(settle)
    [delivery] = run_json(running, "deliveries")["items"]
    assert delivery["resource_ids"] == [created["document"]["uuid"]] and delivery["state"] == "pending"
    for seconds in ("5", "10", "20"):
        assert run(running, "clock", "advance", seconds).exit_code == 0
        running.call(settle)
    [failed] = run_json(running, "failures")["items"]
    assert failed["id"] == delivery["id"] and failed["state"] == "failed" and len(failed["attempts"]) == 4
    table = run(running, "failures")
    assert table.exit_code == 0 and delivery["id"] in table.stdout and "new_document" in table.stdout
    assert run_json(running, "deliveries", "--state", "delivered")["items"] == []
    bad_state = run(running, "deliveries", "--state", "lost")
    assert bad_state.exit_code == 1 and "state" in bad_state.stderr
    again = run(running, "redeliver", delivery["id"], "--wait", "0")
    assert again.exit_code == 0 and "Redelivery scheduled" in again.stderr


def test_redeliver_unknown_delivery_exits_1(running: RunningMock) -> None:
    result = run(running, "redeliver", "dlv_nope")
    assert result.exit_code == 1 and "404" in result.stderr
