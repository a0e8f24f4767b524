"""``askara-mock snapshot save|load``: a running mock's whole state to a file, and back.

``save`` writes ``GET /_mock/snapshot`` to a file, ``load`` sends a file to ``POST /_mock/snapshot``
(the mock checks all of it before replacing anything and names each broken rule otherwise).
The file is written and read by :mod:`.snapshot_file`, which ``serve`` shares.
"""

from __future__ import annotations

import json
from typing import Any

import click

from mock_server.cli.client import control_options
from mock_server.cli.control_client import ControlClient
from mock_server.cli.output import print_json, print_pairs
from mock_server.cli.snapshot_file import read_snapshot_file, write_atomically


def describe(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    tables = doc.get("tables") or {}
    counts = ", ".join(f"{name} {len(t.get('rows') or [])}" for name, t in tables.items() if t.get("rows"))
    return [("version", doc.get("version")), ("clock", (doc.get("clock") or {}).get("now")), ("records", counts)]


@click.group()
def snapshot() -> None:
    """The running mock's whole state as one JSON file: save it, load it (into this or another mock)."""


@snapshot.command("save")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Write the snapshot here.")
@control_options
def save(output: str, mock_url: str, as_json: bool) -> None:
    """Save GET /_mock/snapshot to a file (written whole or not at all)."""
    doc = ControlClient(mock_url).get("/_mock/snapshot")
    write_atomically(output, json.dumps(doc, ensure_ascii=False).encode())
    if as_json:
        print_json({"written": output, **dict(describe(doc))})
    else:
        print_pairs(f"wrote {output}", describe(doc))


@snapshot.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@control_options
def load(file: str, mock_url: str, as_json: bool) -> None:
    """Replace the mock's state with a snapshot file; no webhook fires, pending retries keep their times."""
    answer = ControlClient(mock_url, timeout=120).post("/_mock/snapshot", read_snapshot_file(file))
    if as_json:
        print_json(answer)
    else:
        counts = ", ".join(f"{name} {n}" for name, n in answer["counts"].items() if n)
        print_pairs(f"loaded {file}", [("clock", answer["clock"]["now"]), ("records", counts),
                                       ("pending deliveries", answer["pending_deliveries"])])
