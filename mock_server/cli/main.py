"""The ``askara-mock`` group: commands load lazily, so a client command never imports the server.

``serve`` lives in :mod:`.serve`, the control-API clients in :mod:`.client`, the webhook receiver
``listen`` in :mod:`.listen`, how they print in :mod:`.output`; commands of other
packages (the conformance harness) join through the ``askara_mock.commands`` entry point, so
this package never imports them by name. Those are loaded only when the group needs a command
it does not know (``conformance``, ``scenario``) or lists them all for a program (completion):
a client command never scans the entry points nor imports the harness (and Hypothesis with it).

``askara-mock --help`` imports no command at all: it prints the one-line helps of
:data:`SHORT_HELP` (importing every command for them cost ~0.7 s of CPU: the server and the
harness). ``tests/test_startup.py`` renders the list both ways, from the table and from the
commands themselves, at several widths, so the table cannot drift from the commands' docstrings.
"""

from __future__ import annotations

import importlib

import click

COMMANDS = {
    "serve": "mock_server.cli.serve:serve",
    "trigger": "mock_server.cli.client:trigger",
    "clock": "mock_server.cli.client:clock",
    "deliveries": "mock_server.cli.client:deliveries",
    "failures": "mock_server.cli.client:failures",
    "redeliver": "mock_server.cli.client:redeliver",
    "fault": "mock_server.cli.client:fault",
    "credentials": "mock_server.cli.client:credentials",
    "listen": "mock_server.cli.listen:listen",
    "har": "mock_server.cli.transcript:har",
    "record": "mock_server.cli.record:record",
    "bundle": "mock_server.cli.bundle:bundle",
    "snapshot": "mock_server.cli.snapshot:snapshot",
    "settle": "mock_server.cli.settle:settle",
}
"""Command name -> ``module:attribute``; imported only when the command runs."""

SHORT_HELP = {
    "bundle": "Reproduction bundles: export one from a running mock, show what is inside one, replay one.",
    "clock": "Read or move the mock clock.",
    "conformance": "Prove an integration handles what Askara will do to it.",
    "credentials": "Client id and secret, and a fresh refresh token of the seeded clinician (single-use).",
    "deliveries": "Webhook deliveries with their attempts.",
    "failures": "The failure queue: deliveries that used up their retries.",
    "fault": "Inject faults: askara-mock fault KIND [--param key=value ...]; fault list | kinds | clear [ID].",
    "har": "Write every API call, OAuth exchange, PDF download and webhook attempt as HAR 1.2.",
    "listen": (
        "Receive the mock's webhook deliveries here and print each one as it arrives (like `stripe "
        "listen`)."
    ),
    "record": "Record the actions taken through the control API as scenario steps in OUTPUT; Ctrl-C closes it.",
    "redeliver": "Send delivery DELIVERY_ID again, and print it once the new attempt is recorded.",
    "scenario": "Work with scenario files.",
    "serve": (
        "Serve the mock Askara API with seeded data; deliveries go to the webhooks registered "
        "(--webhook-url, `askara-mock listen`, or POST /webhooks)."
    ),
    "settle": (
        "Wait for the webhook deliveries that are due (exit 1 naming what is still pending after "
        "--timeout)."
    ),
    "snapshot": "The running mock's whole state as one JSON file: save it, load it (into this or another mock).",
    "trigger": "Make the mock fire EVENT, as a clinician would in Askara.",
}
"""Command name -> its one-line help (its docstring's first sentence), for ``--help`` without
importing the commands; the plugin commands' too. Proved equal to the commands' own by a test."""


class LazyGroup(click.Group):
    """A group whose commands are imported by name when needed (click's documented lazy-loading pattern).

    ``plugins`` names an entry-point group whose entries are called with the group to add their
    commands; that happens once, the first time a name is missing or every command is listed."""

    def __init__(self, *args: object, lazy: dict[str, str], plugins: str | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy)
        self.plugins = plugins
        self._plugins_loaded = plugins is None

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            command = super().get_command(ctx, cmd_name)
            if command is None and not self._plugins_loaded:
                self._load_plugins()
                command = super().get_command(ctx, cmd_name)
            return command
        module_name, attribute = target.split(":")
        loaded: click.Command = getattr(importlib.import_module(module_name), attribute)
        return loaded

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's listing (its width rule), the commands not loaded yet stood in for by a bare
        command holding their :data:`SHORT_HELP` line, so click shortens it as it would theirs."""
        names = sorted({*self.commands, *SHORT_HELP})
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name) or click.Command(name, help=SHORT_HELP[name])
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _load_plugins(self) -> None:
        if self._plugins_loaded or self.plugins is None:
            return
        self._plugins_loaded = True
        from importlib.metadata import entry_points  # ~20-50 ms: paid only when a plugin command is needed

        for entry_point in entry_points(group=self.plugins):
            entry_point.load()(self)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    plugins="askara_mock.commands",
    epilog="Exit status of the client commands: 0 done, 1 the mock refused (its problem is printed), 2 bad usage, "
    "3 the mock cannot be reached, 4 trigger: no active webhook is subscribed to the event, 5 redeliver: the new "
    "attempt had not finished within --wait. Output is plain lines when piped; --json prints JSON.",
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "ASKARA_MOCK"},
)
@click.version_option(package_name="askara-mock")
def main() -> None:
    """A local mock of the Askara API, its webhook sender, and a conformance harness."""

