"""``askara-mock snapshot save|load``: a running mock's whole state to a file, and back.

``save`` writes ``GET /_mock/snapshot`` to a file, ``load`` sends a file to ``POST /_mock/snapshot``
(the mock checks all of it before replacing anything and names each broken rule otherwise).
:func:`write_atomically` is also what ``serve --save-on-exit`` writes with: a temporary file in
the same folder, then renamed over the target, so a failed save leaves the previous file whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from mock_server.cli.client import control_options
from mock_server.cli.control_client import ControlClient
from mock_server.cli.output import print_json, print_pairs


def write_atomically(path: str | Path, data: bytes) -> None:
    """``data`` in ``path``, all or nothing: written beside it, flushed to disk, then renamed over it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_snapshot_file(path: str | Path) -> Any:
    """The JSON in ``path``, or a usage error saying why it is not JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.UsageError(f"{path}: not a snapshot file ({exc})") from None


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
