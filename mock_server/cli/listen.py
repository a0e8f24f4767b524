"""``askara-mock listen``: a local webhook receiver that registers itself with a running mock.

In the manner of ``stripe listen``: it binds a port on loopback, registers
``http://HOST:PORT/webhook`` through the mock's PUBLIC API (``POST /webhooks`` with the access
token of ``GET /_mock/credentials``, so the webhook is exactly what an integration would create),
prints each delivery as it arrives (:mod:`.inbox`), and on Ctrl-C (or SIGTERM) deletes the
webhook again with a fresh token (the first may have expired on the mock clock).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click

from mock_server.cli.client import control_options, here
from mock_server.cli.control_client import ControlClient
from mock_server.cli.inbox import Inbox
from mock_server.cli.output import note, print_json_line
from mock_server.core.vocabulary import EVENT_NAMES


def parse_events(values: tuple[str, ...]) -> list[str]:
    """``--events a,b --events c`` -> ``[a, b, c]``; every one of the three events when none is given."""
    events = [name.strip() for value in values for name in value.split(",") if name.strip()]
    unknown = [name for name in events if name not in EVENT_NAMES]
    if unknown:
        raise click.BadParameter(f"unknown event {unknown[0]!r}; choose from {', '.join(EVENT_NAMES)}",
                                 param_hint="--events")
    return list(dict.fromkeys(events)) or list(EVENT_NAMES)


def bearer(client: ControlClient) -> dict[str, str]:
    """A fresh access token of the seeded clinician (all scopes), as an Authorization header."""
    return {"Authorization": f"Bearer {client.get('/_mock/credentials')['access_token']}"}


@contextmanager
def registered(client: ControlClient, url: str, events: list[str]) -> Iterator[dict[str, Any]]:
    """The webhook, created through ``POST /webhooks`` and deleted on the way out."""
    webhook: dict[str, Any] = client.call("POST", "/webhooks", body={"url": url, "events": events},
                                          headers=bearer(client))
    try:
        yield webhook
    finally:
        try:
            client.call("DELETE", f"/webhooks/{webhook['uuid']}", headers=bearer(client))
            note(f"Removed webhook {webhook['uuid']} from the mock.")
        except click.ClickException as exc:
            note(f"Could not remove webhook {webhook['uuid']}: {exc.format_message()}")


def _sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command(epilog="Each delivery prints as: local time, delivery id, attempt, then action, resource type and "
               "id of each event, the signature verdict and the status answered. Deliveries are signed only when "
               "the mock was started with --webhook-secret (or a forged_signature fault is armed).")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="Port to receive on; 0 picks a free one.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to receive on.")
@click.option("--path", "url_path", default="/webhook", show_default=True, help="Path of the registered URL.")
@click.option("--status", default=None, type=click.IntRange(100, 599),
              help="Status to answer every delivery with (default 200; e.g. 500 to watch the retries).")
@click.option("--events", "events", multiple=True, metavar="EVENT[,EVENT...]",
              help=f"Events to subscribe to (default all: {', '.join(EVENT_NAMES)}); repeat or comma-separate.")
@click.option("--forward-to", default=None, metavar="URL",
              help="Pass each delivery (same body and webhook-* headers) on to URL and answer the mock its status.")
@control_options
def listen(port: int, host: str, url_path: str, status: int | None, events: tuple[str, ...], forward_to: str | None,
           mock_url: str, as_json: bool) -> None:
    """Receive the mock's webhook deliveries here and print each one as it arrives (like `stripe listen`)."""
    if status is not None and forward_to:
        raise click.UsageError("--status and --forward-to exclude each other: with --forward-to, the mock gets the "
                               "status the URL answered.")
    subscribed = parse_events(events)
    client = ControlClient(mock_url)
    credentials = client.get("/_mock/credentials")
    inbox = Inbox(ControlClient(mock_url, timeout=2.0), status=status or 200, forward_to=forward_to,
                  as_json=as_json, secret=credentials.get("webhook_secret") or None)
    try:
        server = inbox.server(host, port)
    except OSError as exc:
        raise click.ClickException(f"Cannot receive on {host}:{port} ({exc.strerror or exc}).") from None
    reachable = "127.0.0.1" if host in ("0.0.0.0", "") else host
    url = f"http://{reachable}:{server.server_address[1]}/{url_path.lstrip('/')}"
    previous = signal.signal(signal.SIGTERM, _sigterm)
    try:
        with registered(client, url, subscribed) as webhook:
            inbox.webhook_id = webhook["uuid"]
            _ready(inbox, url, webhook, mock_url)
            server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        signal.signal(signal.SIGTERM, previous)


def _ready(inbox: Inbox, url: str, webhook: dict[str, Any], mock_url: str) -> None:
    signing = ("verified with the mock's webhook secret" if inbox.secret
               else "unsigned (the mock signs deliveries when started with --webhook-secret generate)")
    if inbox.as_json:
        print_json_line({"ready": True, "url": url, "webhook": webhook["uuid"], "events": webhook.get("events"),
                         "mock_url": mock_url, "signatures": "verified" if inbox.secret else "unsigned"})
        return
    note(f"Ready. Receiving on {url}")
    events = ", ".join(webhook.get("events") or [])
    note(f"Webhook {webhook['uuid']} registered with the mock at {mock_url} for {events}")
    answering = f"what {inbox.forward_to} answers" if inbox.forward_to else str(inbox.status)
    note(f"Signatures: {signing}. Answering: {answering}. Ctrl-C removes the webhook.")
    note(f"Try, in another terminal: {here('trigger new_document', mock_url)}")
