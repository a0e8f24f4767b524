"""``askara-mock conformance run`` and ``askara-mock scenario validate``, attached to the main CLI
through the ``askara_mock.commands`` entry point (mock_server never imports this package)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from conformance.reports.data import write_json
from conformance.reports.html import write_html
from conformance.reports.junit import write_junit
from conformance.reports.terminal import print_result
from conformance.run_bundle import BundleRecorder, bundle_options, finish_bundle
from conformance.runner import EXIT_NOT_RUN, RunConfig, run
from conformance.scenario import ScenarioError, load, standard_suite


def register(group: click.Group) -> None:
    group.add_command(conformance)
    group.add_command(scenario)


@click.group()
def conformance() -> None:
    """Prove an integration handles what Askara will do to it."""


@conformance.command("run")
@click.option(
    "--target-url",
    required=True,
    help="Where the integration receives webhooks (webhook mode), e.g. "
    "http://127.0.0.1:9000/webhook; in polling mode, any URL on its host.",
)
@click.option(
    "--start",
    "start_command",
    default=None,
    help="Command that starts the integration; it gets "
    "ASKARA_API_URL, ASKARA_CLIENT_ID, ASKARA_CLIENT_SECRET, ASKARA_REFRESH_TOKEN (and ASKARA_WEBHOOK_SECRET).",
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help="Standard scenario name or YAML file; repeat. Default: the standard suite.",
)
@click.option("--mode", type=click.Choice(["webhook", "polling"]), default="webhook", show_default=True)
@click.option(
    "--register/--no-register",
    "register_webhook",
    default=True,
    show_default=True,
    help="Register the webhook for --target-url, or let the integration register its own and use that.",
)
@click.option("--signatures", is_flag=True, help="The integration verifies webhook signatures: test forged ones.")
@click.option("--mock-url", default=None, help="Use a mock that is already running instead of starting one.")
@click.option("--mock-tls", is_flag=True, help="Serve the harness's mock over HTTPS with a CA it issues (as Askara is "
              "HTTPS only); the integration gets the CA in SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, ASKARA_CA_FILE...")
@click.option("--mock-ca", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CA file of an HTTPS --mock-url (what `askara-mock serve --tls` printed).")
@click.option(
    "--mock-port",
    type=int,
    default=None,
    help="Fixed port for the harness's mock (for an integration that is already running and configured).",
)
@click.option(
    "--client-secret", default=None, help="Client secret of the harness's mock (already-running integration)."
)
@click.option("--webhook-secret", default=None, help="Webhook signing secret of the harness's mock.")
@click.option(
    "--refresh-token",
    default=None,
    help="Refresh token an already-running integration was configured with; the harness's mock registers it.",
)
@click.option(
    "--seed", type=int, default=None, help="Seed of the mock's data, to replay a run (default: fresh per run)."
)
@click.option(
    "--timeout", type=float, default=300.0, show_default=True, help="Global limit for the whole run, seconds."
)
@click.option(
    "--startup-timeout", type=float, default=15.0, show_default=True,
    help="Seconds for the integration to listen on --target-url (and to register its webhook with --no-register).",
)
@click.option(
    "--scenario-timeout", type=float, default=None,
    help="Limit of a scenario whose file sets no timeout, seconds [default: 20].",
)
@click.option(
    "--wait-timeout", type=float, default=5.0, show_default=True,
    help="How long a wait step whose scenario gives no timeout waits (status reports, attempts, idle...), seconds.",
)
@click.option(
    "--idle-quiet", type=float, default=0.2, show_default=True,
    help="Seconds without a request of the integration that make it idle (wait: idle without quiet:).",
)
@click.option(
    "--stop-grace", type=float, default=3.0, show_default=True,
    help="Seconds between SIGTERM and SIGKILL when the integration is stopped.",
)
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), default=None, help="Write JUnit XML here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Write the JSON report here.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None, help="Write the HTML report here.")
@bundle_options
@click.option("--quiet", is_flag=True, help="No live progress.")
def run_command(
    target_url: str,
    start_command: str | None,
    scenarios: tuple[str, ...],
    mode: str,
    register_webhook: bool,
    signatures: bool,
    mock_url: str | None,
    mock_tls: bool,
    mock_ca: str | None,
    mock_port: int | None,
    client_secret: str | None,
    webhook_secret: str | None,
    refresh_token: str | None,
    seed: int | None,
    timeout: float,
    startup_timeout: float,
    scenario_timeout: float | None,
    wait_timeout: float,
    idle_quiet: float,
    stop_grace: float,
    junit_path: str | None,
    json_path: str | None,
    html_path: str | None,
    bundle_path: str | None,
    no_redact: bool,
    quiet: bool,
) -> None:
    """Run conformance scenarios against an integration; exit 0 passed, 1 failed, 2 not run or nothing judged.

    The summary goes to stdout (plain text when it is not a terminal); progress and logs to stderr."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True)
    try:
        loaded = [load(name) for name in scenarios] if scenarios else standard_suite()
    except ScenarioError as exc:
        console.print(f"[red]Scenario error[/]\n{escape(str(exc))}")
        sys.exit(EXIT_NOT_RUN)
    config = RunConfig(
        target_url=target_url,
        scenarios=loaded,
        start=start_command,
        mock_url=mock_url,
        mock_tls=mock_tls,
        mock_ca=mock_ca,
        mock_port=mock_port,
        mode=mode,
        register_webhook=register_webhook,
        signatures=signatures,
        timeout=timeout,
        startup_timeout=startup_timeout,
        scenario_timeout=scenario_timeout,
        wait_timeout=wait_timeout,
        idle_quiet=idle_quiet,
        stop_grace=stop_grace,
        seed=seed,
        client_secret=client_secret,
        webhook_secret=webhook_secret,
        refresh_token=refresh_token,
        progress=None if quiet else (lambda line: console.print(f"[dim]›[/] {escape(line)}")),
        watcher=(recorder := BundleRecorder() if bundle_path else None),
    )
    result = run(config)
    print_result(result)
    for path, writer in ((json_path, write_json), (junit_path, write_junit), (html_path, write_html)):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            writer(result, path)
            console.print(f"[dim]wrote {path}[/]")
    finish_bundle(result, recorder, bundle_path, no_redact=no_redact, console=console)
    sys.exit(result.exit_code)


@click.group()
def scenario() -> None:
    """Work with scenario files."""


@scenario.command("validate")
@click.argument("files", nargs=-1, required=True)
def validate_command(files: tuple[str, ...]) -> None:
    """Check scenario files against schemas/scenario.schema.json, explaining errors with their line."""
    bad = 0
    for name in files:
        try:
            loaded = load(name)
        except ScenarioError as exc:
            bad += 1
            click.echo(str(exc), err=True)
        else:
            click.echo(f"{name}: ok ({loaded.name}: {len(loaded.steps)} steps, checks {', '.join(loaded.checks)})")
    sys.exit(1 if bad else 0)


@scenario.command("list")
def list_command() -> None:
    """List the standard scenarios and the checks they feed."""
    for item in standard_suite():
        click.echo(f"{item.name:24} {item.mode:8} {', '.join(item.checks)}")
