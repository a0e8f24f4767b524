"""``askara-mock conformance ...`` commands, attached to the main CLI through an entry point."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    @group.group()
    def conformance() -> None:
        """Prove an integration handles what Askara will do to it."""
