"""``askara-mock settle``: wait until every due delivery was attempted and answered (``POST /_mock/settle``).

For a vendor's test script: ``--advance`` also moves the mock clock to each pending retry until
nothing is pending. When ``--timeout`` runs out the mock answers 409 naming each delivery still
pending; the command prints them and exits 1, as every refused client call does.
"""

from __future__ import annotations

import click

from mock_server.cli.client import control_options
from mock_server.cli.control_client import ControlClient
from mock_server.cli.output import field, print_json, print_table

SETTLED_COLUMNS = [
    field("id", "id"),
    field("state", "state"),
    field("attempts", "attempts"),
    field("last status", "last_status"),
    field("failure", "last_failure"),
    field("next attempt", "next_attempt_at"),
]


@click.command()
@click.option("--advance", is_flag=True, help="Also move the clock to each pending retry until nothing is pending.")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0, 600, min_open=True),
              help="Real seconds to wait at most.")
@control_options
def settle(advance: bool, timeout: float, mock_url: str, as_json: bool) -> None:
    """Wait for the webhook deliveries that are due (exit 1 naming what is still pending after --timeout)."""
    params = {"timeout": f"{timeout:g}", **({"advance": "true"} if advance else {})}
    answer = ControlClient(mock_url, timeout=timeout + 30).call("POST", "/_mock/settle", params=params)
    if as_json:
        print_json(answer)
        return
    moved = f", clock moved {answer['advanced']:g} s" if answer.get("advanced") else ""
    print_table(f"Settled{moved}: waited for", answer["waited_for"], SETTLED_COLUMNS, empty="nothing was due")
    if answer["pending"]:
        print_table("Still pending (not due yet)", answer["pending"], SETTLED_COLUMNS)
