"""Client commands of ``askara-mock`` that drive a running mock over its control API (Stripe-CLI style).

``trigger``, ``clock``, ``deliveries``, ``failures``, ``redeliver``, ``fault`` and ``credentials``
each make one or a few ``/_mock`` calls and print a table (:mod:`.output`: plain lines when
piped), or the raw JSON with ``--json``. Exit statuses: :mod:`.control_client` (4: ``trigger``
found no subscribed webhook; 5: ``redeliver``'s attempt still running). ``listen`` lives in
:mod:`.listen`. The commands stay thin: requests go through :class:`ControlClient`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import click

from mock_server.cli.control_client import (
    DEFAULT_MOCK_URL,
    EXIT_NO_SUBSCRIBER,
    EXIT_STILL_PENDING,
    MOCK_CA_ENV,
    ControlClient,
    remember_mock_ca,
)
from mock_server.cli.output import (
    Column,
    cell,
    dig,
    field,
    note,
    print_json,
    print_pairs,
    print_table,
    program,
)
from mock_server.core.vocabulary import EVENT_NAMES, FAULT_KINDS


def control_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--mock-url``, ``--mock-ca`` and ``--json``, shared by every client command."""
    command = click.option("--json", "as_json", is_flag=True, help="Print the mock's raw JSON (for scripts).")(command)
    command = click.option(
        "--mock-ca",
        envvar=MOCK_CA_ENV,
        show_envvar=True,
        type=click.Path(exists=True, dir_okay=False),
        expose_value=False,
        callback=remember_mock_ca,
        help="CA file to trust (besides the system store) for a mock served with --tls; `serve --tls` prints it.",
    )(command)
    return click.option(
        "--mock-url",
        envvar="ASKARA_MOCK_URL",
        default=DEFAULT_MOCK_URL,
        show_default=True,
        show_envvar=True,
        help="Base URL of the running mock.",
    )(command)


def here(command: str, mock_url: str) -> str:
    """``command`` as the user types it here, pointed at the same mock."""
    return f"{program()} {command}" + ("" if mock_url.rstrip("/") == DEFAULT_MOCK_URL else f" --mock-url {mock_url}")


# -- the logic behind the commands ----------------------------------------------------------------


def newest_verified(client: ControlClient, count: int) -> list[str]:
    """The ``count`` most recently validated documents, newest first (for ``document_synchronize``)."""
    documents = items_of(client.get("/_mock/documents", state="verified"))
    documents = [d for d in documents if d.get("state") == "verified"]
    documents.sort(key=lambda d: (d.get("validatedAt") or 0, d.get("createdAt") or ""), reverse=True)
    if not documents:
        raise click.ClickException(
            f"The mock has no validated document to synchronize; run `{program()} trigger new_document` first."
        )
    return [d["uuid"] for d in documents[:count]]


def trigger_event(client: ControlClient, event: str, count: int, document: str | None) -> list[dict[str, Any]]:
    """Make the mock fire ``event`` ``count`` times, as a clinician would; the mock's answers."""
    if event == "new_document":
        return [client.post("/_mock/documents", {"validate": True}) for _ in range(count)]
    if event == "new_note":
        return [client.post("/_mock/notes", {}) for _ in range(count)]
    targets = [document] * count if document else newest_verified(client, count)
    return [client.post(f"/_mock/documents/{uuid}/synchronize") for uuid in targets]


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """``k=v`` pairs; values are JSON when they parse (``count=3``, ``latency=0.5``), strings otherwise."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {pair!r}", param_hint="--param")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def items_of(answer: Any) -> list[Any]:
    """The records of a list answer: a ``/_mock`` page's ``items`` (a catalogue's plain array as it is)."""
    if isinstance(answer, dict):
        return list(answer.get("items") or [])
    return list(answer or [])


def list_title(title: str, answer: Any) -> str:
    if isinstance(answer, dict) and "total" in answer:
        dropped = f", {answer['dropped']} old ones dropped" if answer.get("dropped") else ""
        return f"{title} ({len(items_of(answer))} of {answer['total']}{dropped})"
    return title


DELIVERY_COLUMNS: list[Column] = [
    field("id", "id"),
    field("state", "state"),
    ("events", lambda d: ", ".join(str(a) for a in d.get("actions") or []) or None),
    field("url", "url"),
    ("attempts", lambda d: len(d["attempts"]) if isinstance(d.get("attempts"), list) else None),
    ("last answer", lambda d: _last_attempt(d)),
    field("next attempt", "next_attempt_at"),
    field("fault", "fault"),
]


def _last_attempt(delivery: dict[str, Any]) -> Any:
    attempts = delivery.get("attempts")
    if not isinstance(attempts, list) or not attempts or not isinstance(attempts[-1], dict):
        return None
    return _outcome(attempts[-1])


def _outcome(attempt: dict[str, Any]) -> Any:
    """An attempt's answer: the receiver's status, else how it failed (timeout, refused...)."""
    return next((attempt[k] for k in ("status", "failure", "error") if attempt.get(k) is not None), None)


FAULT_COLUMNS: list[Column] = [
    field("id", "id"),
    field("kind", "kind"),
    ("params", lambda f: " ".join(f"{k}={cell(v)}" for k, v in (f.get("params") or {}).items()) or None),
    field("remaining", "remaining"),
    field("created", "created_at"),
]


# -- the commands ---------------------------------------------------------------------------------


def subscribers(client: ControlClient, event: str) -> list[dict[str, Any]]:
    """The active webhooks subscribed to ``event`` (the sender's own rule: any organization's)."""
    hooks = items_of(client.get("/_mock/webhooks"))
    return [w for w in hooks if isinstance(w, dict) and w.get("active") and event in (w.get("events") or [])]


@click.command(epilog=f"Exit status {EXIT_NO_SUBSCRIBER}: the event fired but no active webhook is subscribed to it, "
               "so nothing is delivered (register one with `askara-mock listen` or `serve --webhook-url URL`).")
@click.argument("event", type=click.Choice(EVENT_NAMES))
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 1000), help="How many events.")
@click.option("--document", default=None, help="document_synchronize: this document (default: the newest validated).")
@control_options
def trigger(event: str, count: int, document: str | None, mock_url: str, as_json: bool) -> None:
    """Make the mock fire EVENT, as a clinician would in Askara."""
    if document and event != "document_synchronize":
        raise click.UsageError("--document only goes with document_synchronize.")
    client = ControlClient(mock_url)
    hooks = subscribers(client, event)
    answers = trigger_event(client, event, count, document)
    if as_json:
        print_json(answers)
    else:
        resource = "note" if event == "new_note" else "document"
        print_table(
            f"Triggered {event} x{count}",
            answers,
            [
                field(resource, f"{resource}.uuid"),
                field("type", f"{resource}.type"),
                ("patient", lambda a: _person(dig(a, f"{resource}.patient"))),
                field("event", "event.event_id"),
            ],
        )
    if not hooks:
        note(
            f"No active webhook is subscribed to {event}: the event fired, but nothing is delivered.\n"
            f"Register one: run `{here('listen', mock_url)}` in another terminal, or start the mock with "
            f"`{program()} serve --webhook-url URL`. (exit status {EXIT_NO_SUBSCRIBER})"
        )
        click.get_current_context().exit(EXIT_NO_SUBSCRIBER)
    urls = ", ".join(str(w.get("url")) for w in hooks)
    note(f"{event} goes to {len(hooks)} webhook(s): {urls}. `{here('deliveries', mock_url)}` shows the attempts.")


def _person(patient: Any) -> str | None:
    if not isinstance(patient, dict):
        return None
    return " ".join(str(patient[k]) for k in ("firstName", "lastName") if patient.get(k)) or None


@click.group()
def clock() -> None:
    """Read or move the mock clock."""


@clock.command("show")
@control_options
def clock_show(mock_url: str, as_json: bool) -> None:
    """Show the mock time, its mode and the pending timers."""
    state = ControlClient(mock_url).get("/_mock/clock")
    if as_json:
        print_json(state)
    else:
        print_pairs("Mock clock", state.items())


@clock.command("advance")
@click.argument("seconds", type=click.FloatRange(min=0))
@control_options
def clock_advance(seconds: float, mock_url: str, as_json: bool) -> None:
    """Move the mock clock SECONDS forward (retries, link and token expiry follow)."""
    state = ControlClient(mock_url).post("/_mock/clock/advance", {"seconds": seconds})
    if as_json:
        print_json(state)
    else:
        print_pairs(f"Mock clock, {seconds:g} s later", state.items())


@click.command()
@click.option("--state", default=None, help="Only deliveries in this state: pending, delivered, failed, cancelled.")
@control_options
def deliveries(state: str | None, mock_url: str, as_json: bool) -> None:
    """Webhook deliveries with their attempts."""
    answer = ControlClient(mock_url).get("/_mock/deliveries", state=state)
    if as_json:
        print_json(answer)
    else:
        print_table(list_title("Deliveries", answer), items_of(answer), DELIVERY_COLUMNS, empty="none yet")


@click.command()
@control_options
def failures(mock_url: str, as_json: bool) -> None:
    """The failure queue: deliveries that used up their retries."""
    answer = ControlClient(mock_url).get("/_mock/failures")
    if as_json:
        print_json(answer)
    else:
        print_table(list_title("Failure queue", answer), items_of(answer), DELIVERY_COLUMNS, empty="empty")


def wait_for_redelivery(client: ControlClient, delivery_id: str, before: int, seconds: float) -> dict[str, Any]:
    """Poll the delivery until an attempt of kind ``redeliver`` beyond the first ``before`` is
    recorded (the receiver answered, or the attempt failed), at most ``seconds`` real seconds."""
    deadline = time.monotonic() + seconds
    pause = 0.02
    while True:
        record: dict[str, Any] = client.get(f"/_mock/deliveries/{delivery_id}")
        if redelivery_attempt(record, before) is not None or time.monotonic() >= deadline:
            return record
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.25)


def redelivery_attempt(record: dict[str, Any], before: int) -> dict[str, Any] | None:
    attempts = record.get("attempts") or []
    return next((a for a in attempts[before:] if isinstance(a, dict) and a.get("kind") == "redeliver"), None)


@click.command(epilog=f"Exit status {EXIT_STILL_PENDING}: the new attempt was not recorded within --wait seconds "
               "(the record printed is the delivery as it stood then).")
@click.argument("delivery_id")
@click.option("--wait", "wait_seconds", default=15.0, show_default=True, type=click.FloatRange(min=0),
              help="Real seconds to wait for the new attempt; 0 prints the mock's 'scheduled' answer at once.")
@control_options
def redeliver(delivery_id: str, wait_seconds: float, mock_url: str, as_json: bool) -> None:
    """Send delivery DELIVERY_ID again, and print it once the new attempt is recorded."""
    client = ControlClient(mock_url)
    answer = client.post(f"/_mock/deliveries/{delivery_id}/redeliver")
    if wait_seconds == 0:
        _show_delivery("Redelivery scheduled", answer, as_json)
        return
    before = int(dig(answer, "redelivery.attempts_before") or 0)
    record = wait_for_redelivery(client, delivery_id, before, wait_seconds)
    attempt = redelivery_attempt(record, before)
    if attempt is None:
        title = f"Redelivery of {delivery_id} still running after {wait_seconds:g} s"
    else:
        title = f"Redelivered {delivery_id}: attempt {attempt.get('n')} answered {_outcome(attempt)}"
    _show_delivery(title, record, as_json)
    if attempt is None:
        note(f"`{here('deliveries', mock_url)}` shows the attempt once the receiver answers.")
        click.get_current_context().exit(EXIT_STILL_PENDING)


def _show_delivery(title: str, record: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(record)
        note(title)
    else:
        print_table(title, [record], DELIVERY_COLUMNS)


@click.command()
@control_options
def credentials(mock_url: str, as_json: bool) -> None:
    """Client id and secret, and a fresh refresh token of the seeded clinician (single-use)."""
    answer = ControlClient(mock_url).get("/_mock/credentials")
    if as_json:
        print_json(answer)
    else:
        print_pairs("askara-mock credentials", answer.items())


class FaultGroup(click.Group):
    """``fault list``, ``fault clear``, and ``fault KIND`` for any other word (kinds are the mock's)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or _inject_command(cmd_name)


def _inject_command(kind: str) -> click.Command:
    @click.command(kind, help=f"Inject a {kind} fault.")
    @click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Fault parameter; repeat.")
    @control_options
    def inject(params: tuple[str, ...], mock_url: str, as_json: bool) -> None:
        record = ControlClient(mock_url).post("/_mock/faults", {"kind": kind, **parse_params(params)})
        if as_json:
            print_json(record)
        else:
            print_table("Fault injected", [record], FAULT_COLUMNS)

    return inject


@click.group(
    cls=FaultGroup,
    epilog="Kinds: " + ", ".join(FAULT_KINDS) + ". Example: askara-mock fault route -p path=/documents "
    "-p status=503 -p count=2",
)
def fault() -> None:
    """Inject faults: askara-mock fault KIND [--param key=value ...]; fault list | kinds | clear [ID]."""


@fault.command("list")
@control_options
def fault_list(mock_url: str, as_json: bool) -> None:
    """Faults still armed."""
    records = ControlClient(mock_url).get("/_mock/faults") or []
    if as_json:
        print_json(records)
    else:
        print_table("Active faults", records, FAULT_COLUMNS, empty="none")


@fault.command("kinds")
@control_options
def fault_kinds(mock_url: str, as_json: bool) -> None:
    """The fault kinds the running mock knows."""
    kinds = ControlClient(mock_url).get("/_mock/faults/kinds") or []
    if as_json:
        print_json(kinds)
    else:
        click.echo("\n".join(kinds))


@fault.command("clear")
@click.argument("fault_id", required=False)
@control_options
def fault_clear(fault_id: str | None, mock_url: str, as_json: bool) -> None:
    """Disarm every fault, or only FAULT_ID."""
    client = ControlClient(mock_url)
    answer = client.delete(f"/_mock/faults/{fault_id}") if fault_id else client.delete("/_mock/faults")
    answer = answer if answer is not None else {"cleared": 1}
    if as_json:
        print_json(answer)
    else:
        click.echo(f"Cleared {answer.get('cleared', 0)} fault(s).")
