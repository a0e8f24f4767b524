"""``askara-mock har``: the running mock's two-way transcript as a HAR 1.2 file (``GET /_mock/har``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mock_server.cli.client import control_options
from mock_server.cli.control_client import ControlClient
from mock_server.cli.output import note, print_json, print_pairs

NO_REDACT_WARNING = (
    "WARNING: --no-redact: this file holds live secrets (tokens, client and webhook secrets, signatures, "
    "codes) and real patient names. Do not attach it to a ticket or send it anywhere."
)


def redact_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--no-redact",
        "no_redact",
        is_flag=True,
        help="Keep secrets and patients' names as they are (for your own machine only; says so loudly).",
    )(command)


@click.command()
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="Write the HAR here.")
@redact_option
@control_options
def har(output: str, no_redact: bool, mock_url: str, as_json: bool) -> None:
    """Write every API call, OAuth exchange, PDF download and webhook attempt as HAR 1.2.

    Opens in a browser's DevTools (Network panel, Import HAR). Redacted unless --no-redact."""
    if no_redact:
        note(NO_REDACT_WARNING)
    document = ControlClient(mock_url).get("/_mock/har", redact="false" if no_redact else None)
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    entries = document["log"]["entries"]
    counts = Counter(e.get("_askara", {}).get("direction") for e in entries)
    summary = {
        "path": str(path),
        "entries": len(entries),
        "inbound": counts.get("inbound", 0),
        "outbound": counts.get("outbound", 0),
        "redacted": not no_redact,
    }
    if as_json:
        print_json(summary)
    else:
        print_pairs(f"wrote {path}", summary.items(), err=True)
