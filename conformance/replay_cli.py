"""``askara-mock bundle replay FILE``, joined to mock_server's ``bundle`` group from this side.

mock_server never imports the harness: its ``bundle`` group is lazy and loads the
``askara_mock.bundle_commands`` entry point (pyproject.toml) only when asked for a command it does
not know, as the main group does with ``askara_mock.commands`` for ``conformance``. ``bundle show``
and ``bundle export`` therefore never import the harness.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from conformance.replay import BundleError, replay
from conformance.reports.divergence import html_section, junit_suite, lines
from conformance.reports.html import render
from conformance.reports.junit import to_xml
from conformance.reports.terminal import print_result
from conformance.run_bundle import BundleRecorder, bundle_options, finish_bundle
from conformance.runner import EXIT_NOT_RUN


def register(group: click.Group) -> None:
    group.add_command(replay_command)


@click.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--target-url", required=True, help="Where the other build receives webhooks (as for conformance run).")
@click.option("--start", "start_command", default=None, help="Command that starts the other build of the integration.")
@click.option("--timeout", type=float, default=300.0, show_default=True, help="Global limit for the run, seconds.")
@click.option("--startup-timeout", type=float, default=15.0, show_default=True,
              help="Seconds for the integration to listen on --target-url.")
@click.option("--stop-grace", type=float, default=3.0, show_default=True,
              help="Seconds between SIGTERM and SIGKILL when the integration is stopped.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Write the JSON report, with its divergence section, here.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), default=None,
              help="Write JUnit XML here (a last testsuite, divergence, fails on each regression).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Write the HTML report, with the divergence at its end, here.")
@bundle_options
@click.option("--quiet", is_flag=True, help="No live progress.")
def replay_command(file: str, target_url: str, start_command: str | None, timeout: float, startup_timeout: float,
                   stop_grace: float, json_path: str | None, junit_path: str | None, html_path: str | None,
                   bundle_path: str | None, no_redact: bool, quiet: bool) -> None:  # fmt: skip
    """Replay a bundle's story against another build; report the verdicts and where they diverge from the bundle's.

    Exit 0 when the new run passed, 1 when a check failed (a regression among them), 2 when it could not be run."""
    console = Console(stderr=True)
    recorder = BundleRecorder() if bundle_path else None
    progress = None if quiet else (lambda line: console.print(f"[dim]›[/] {escape(line)}"))
    try:
        replayed = replay(file, target_url, start=start_command, timeout=timeout, startup_timeout=startup_timeout,
                          stop_grace=stop_grace, progress=progress, watcher=recorder)  # fmt: skip
    except BundleError as exc:
        console.print(f"[red]Cannot replay[/]\n{escape(str(exc))}")
        sys.exit(EXIT_NOT_RUN)
    print_result(replayed.result)
    click.echo("\n".join(lines(replayed.divergence)))
    if json_path:
        _write(json_path, json.dumps(replayed.report(), indent=2, default=str))
    if junit_path:
        suites = to_xml(replayed.result)
        suites.append(junit_suite(replayed.divergence))
        ET.indent(suites)
        _write(junit_path, ET.tostring(suites, encoding="unicode", xml_declaration=True))
    if html_path:
        page = render(replayed.result)
        end = page.rfind("</body>")
        _write(html_path, page[:end] + html_section(replayed.divergence) + page[end:] if end >= 0 else page)
    for path in (json_path, junit_path, html_path):
        if path:
            console.print(f"[dim]wrote {path}[/]")
    finish_bundle(replayed.result, recorder, bundle_path, no_redact=no_redact, console=console)
    sys.exit(replayed.result.exit_code)


def _write(path: str, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")
