"""``askara-mock record``: write the control actions taken by hand as a scenario file, until Ctrl-C.

It follows the control-action feed (``GET /_mock/actions?since=ID``) of a running mock: the web
page's buttons, ``trigger``, ``fault``, ``clock advance``, hand-made sends all land there. Each new
action becomes steps (:class:`mock_server.support.story.Story`), with a wait wherever the
integration answered (its status reports) before the next action. The file is rewritten after
every step, so it is a valid scenario at every moment; Ctrl-C (or ``--for``) closes it.
"""

from __future__ import annotations

import time
from pathlib import Path

import click
import yaml

from mock_server.cli.client import control_options, items_of
from mock_server.cli.control_client import ControlClient
from mock_server.cli.output import note, print_json
from mock_server.support.story import Story


def reported_documents(client: ControlClient) -> set[str]:
    return {str(r.get("document_uuid")) for r in items_of(client.get("/_mock/status-reports")) if isinstance(r, dict)}


def write(story: Story, path: Path) -> None:
    path.write_text(yaml.safe_dump(story.scenario(), sort_keys=False, allow_unicode=True), encoding="utf-8")


@click.command()
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The scenario file to write.")
@click.option("--name", default="recorded", show_default=True, help="The scenario's name (a-z, 0-9, -).")
@click.option("--seed", type=int, default=None, help="The seed the mock was started with, written in the file.")
@click.option("--poll", default=0.2, show_default=True, type=click.FloatRange(min=0.01), help="Seconds between polls.")
@click.option("--for", "duration", type=click.FloatRange(min=0), default=None,
              help="Stop after this many seconds instead of waiting for Ctrl-C.")
@control_options
def record(
    output: str, name: str, seed: int | None, poll: float, duration: float | None, mock_url: str, as_json: bool
) -> None:
    """Record the actions taken through the control API as scenario steps in OUTPUT; Ctrl-C closes it."""
    client = ControlClient(mock_url)
    path = Path(output)
    story = Story(name=name, seed=seed)
    cursor = int(client.get("/_mock/actions").get("last_id") or 0)  # only what is done from now on
    write(story, path)
    note(f"recording the control actions of {mock_url} into {path}; Ctrl-C to stop")
    end = None if duration is None else time.monotonic() + duration
    try:
        while end is None or time.monotonic() < end:
            page = client.get("/_mock/actions", since=cursor)
            items = page.get("items") or []
            if items:
                story.answered(reported_documents(client))
                for action in items:
                    story.add(action)
                cursor = int(page.get("last_id") or cursor)
                write(story, path)
            time.sleep(poll)
    except KeyboardInterrupt:
        pass
    story.answered(reported_documents(client))
    write(story, path)
    summary = {"path": str(path), "steps": len(story.steps) + 1, "skipped": story.skipped}
    if as_json:
        print_json(summary)
    else:
        note(f"wrote {path}: {summary['steps']} steps")
        for reason in story.skipped:
            note(f"  not recorded: {reason}")
