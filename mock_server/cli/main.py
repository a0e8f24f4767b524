"""The ``askara-mock`` group: commands load lazily, so a client command never imports the server.

``serve`` lives in :mod:`.serve`, the control-API clients in :mod:`.client`, the webhook receiver
``listen`` in :mod:`.listen`, how they print in :mod:`.output`; commands of other
packages (the conformance harness) join through the ``askara_mock.commands`` entry point, so
this package never imports them by name.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

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
"""Command name -> ``module:attribute``; imported only when the command runs (or help lists it)."""


class LazyGroup(click.Group):
    """A group whose commands are imported by name when needed (click's documented lazy-loading pattern)."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    epilog="Exit status of the client commands: 0 done, 1 the mock refused (its problem is printed), 2 bad usage, "
    "3 the mock cannot be reached, 4 trigger: no active webhook is subscribed to the event, 5 redeliver: the new "
    "attempt had not finished within --wait. Output is plain lines when piped; --json prints JSON.",
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "ASKARA_MOCK"},
)
@click.version_option(package_name="askara-mock")
def main() -> None:
    """A local mock of the Askara API, its webhook sender, and a conformance harness."""


def _register_plugin_commands() -> None:
    """Commands of other packages (the conformance harness) join through the
    ``askara_mock.commands`` entry point, so this package never imports them by name."""
    for entry_point in entry_points(group="askara_mock.commands"):
        entry_point.load()(main)


_register_plugin_commands()
