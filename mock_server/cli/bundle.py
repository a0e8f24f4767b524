"""``askara-mock bundle export|show``: reproduction bundles from a running mock, and what is inside one.

``bundle replay`` belongs to the harness: it joins this group through the ``askara_mock.bundle_commands``
entry point (conformance/replay_cli.py), loaded only when the group is asked for a command it lacks.

``export`` saves ``GET /_mock/bundle`` (redacted unless ``--no-redact``, which says so loudly);
``show`` prints the manifest and a summary of each member. The file format is
:mod:`mock_server.support.bundle`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click

from mock_server.cli.client import control_options
from mock_server.cli.control_client import ControlClient
from mock_server.cli.main import LazyGroup
from mock_server.cli.output import note, print_json, print_pairs
from mock_server.cli.transcript import NO_REDACT_WARNING, redact_option
from mock_server.support.bundle import Bundle, read_bundle


@click.group(cls=LazyGroup, lazy={}, plugins="askara_mock.bundle_commands")
def bundle() -> None:
    """Reproduction bundles: export one from a running mock, show what is inside one, replay one."""


@bundle.command("export")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Write the bundle (zip) here.")
@redact_option
@control_options
def export(output: str, no_redact: bool, mock_url: str, as_json: bool) -> None:
    """Save the running mock's story, transcript and manifest as one zip file."""
    if no_redact:
        note(NO_REDACT_WARNING)
    params = {"redact": "false"} if no_redact else None
    response = ControlClient(mock_url).request("GET", "/_mock/bundle", params=params)
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(response.content)
    _show(read_bundle(response.content), as_json, title=f"wrote {path}")


@bundle.command("show")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def show(file: str, as_json: bool) -> None:
    """Print what is inside a bundle: its manifest and each member in a line."""
    try:
        loaded = read_bundle(Path(file).read_bytes())
    except ValueError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    _show(loaded, as_json, title=file)


def summary(loaded: Bundle) -> dict[str, Any]:
    manifest = loaded.manifest
    keys = ("format", "version", "produced_by", "seed", "mode", "redacted")
    info: dict[str, Any] = {k: manifest.get(k) for k in keys}
    stories = loaded.scenario if isinstance(loaded.scenario, list) else [loaded.scenario] if loaded.scenario else []
    if stories:
        info["scenario"] = "; ".join(f"{s.get('name')}: {len(s.get('steps') or [])} steps" for s in stories)
    if loaded.har is not None:
        entries = loaded.har.get("log", {}).get("entries", [])
        directions = Counter(e.get("_askara", {}).get("direction") for e in entries)
        info["transcript"] = f"{len(entries)} entries ({directions['inbound']} in, {directions['outbound']} out)"
    if loaded.report is not None:
        info["report"] = report_summary(loaded.report)
        info["verdicts"] = verdicts(loaded.report)
    info["snapshot"] = "present" if loaded.snapshot is not None else None
    info["left_out"] = manifest.get("left_out")
    info["not_recorded"] = manifest.get("not_recorded")
    return info


def report_summary(report: dict[str, Any]) -> str:
    counts = report.get("summary") or {}
    shown = ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "skipped") if k in counts)
    return f"verdict {report.get('verdict')}" + (f" ({shown})" if shown else "")


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    """Each judged check (passed or failed) of the report by id; skipped ones are counted, not listed."""
    return {str(c.get("id")): str(c.get("status")) for c in report.get("checks") or [] if c.get("status") != "skipped"}


def _show(loaded: Bundle, as_json: bool, *, title: str) -> None:
    info = summary(loaded)
    if as_json:
        print_json(info)
    else:
        if not info.get("redacted"):
            note("WARNING: this bundle is NOT redacted: it holds live secrets and real patient names.")
        judged = info.pop("verdicts", None) or {}
        print_pairs(title, [*info.items(), *((f"  {check}", status) for check, status in judged.items())])
