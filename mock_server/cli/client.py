"""Client commands of ``askara-mock`` that drive a running mock over its control API (Stripe-CLI style).

``trigger``, ``clock``, ``deliveries``, ``failures``, ``redeliver``, ``fault`` and ``credentials``
each make one or a few ``/_mock`` calls and print a readable table, or the raw JSON with
``--json`` for scripts. Exit status: 0 done, 1 the mock refused (its problem document is
printed), 2 bad usage, 3 the mock could not be reached. The commands stay thin: requests go
through :class:`ControlClient`, tables through :func:`print_table`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from mock_server.cli.control_client import DEFAULT_MOCK_URL, ControlClient
from mock_server.core.vocabulary import EVENT_NAMES, FAULT_KINDS

# -- printing -------------------------------------------------------------------------------------


def dig(record: Any, path: str) -> Any:
    """``record["a"]["b"]`` for ``"a.b"``; None when any step is missing."""
    for part in path.split("."):
        if not isinstance(record, dict):
            return None
        record = record.get(part)
    return record


def cell(value: Any) -> str:
    """A table cell: epoch seconds become UTC times, containers compact JSON, None an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value > 1_000_000_000:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


Column = tuple[str, Callable[[Any], Any]]


def field(header: str, *paths: str) -> Column:
    """A column showing the first of ``paths`` present in the record."""

    def get(record: Any) -> Any:
        return next((v for v in (dig(record, p) for p in paths) if v is not None), None)

    return header, get


def print_table(title: str, records: Sequence[Any], columns: Sequence[Column], *, empty: str = "nothing") -> None:
    console = Console()
    if not records:
        console.print(f"{title}: {empty}")
        return
    table = Table(title=title, title_justify="left")
    for header, _ in columns:
        table.add_column(header, overflow="fold", no_wrap=header == "id")
    for record in records:
        table.add_row(*(cell(get(record)) for _, get in columns))
    console.print(table)


def print_pairs(title: str, pairs: Iterable[tuple[str, Any]]) -> None:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("name", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in pairs:
        table.add_row(name, cell(value))
    Console().print(table)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def control_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--mock-url`` and ``--json``, shared by every client command."""
    command = click.option("--json", "as_json", is_flag=True, help="Print the mock's raw JSON (for scripts).")(command)
    return click.option(
        "--mock-url",
        envvar="ASKARA_MOCK_URL",
        default=DEFAULT_MOCK_URL,
        show_default=True,
        show_envvar=True,
        help="Base URL of the running mock.",
    )(command)


# -- the logic behind the commands ----------------------------------------------------------------


def newest_verified(client: ControlClient, count: int) -> list[str]:
    """The ``count`` most recently validated documents, newest first (for ``document_synchronize``)."""
    documents = client.get("/_mock/documents", state="verified") or []
    documents = [d for d in documents if d.get("state") == "verified"]
    documents.sort(key=lambda d: (d.get("validatedAt") or 0, d.get("createdAt") or ""), reverse=True)
    if not documents:
        raise click.ClickException(
            "The mock has no validated document to synchronize; run `askara-mock trigger new_document` first."
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
    """The records of a list answer: a plain array, or the sender's ``{items, total, dropped}``."""
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
    last = attempts[-1]
    return next((last[k] for k in ("status", "failure", "error") if last.get(k) is not None), None)


FAULT_COLUMNS: list[Column] = [
    field("id", "id"),
    field("kind", "kind"),
    ("params", lambda f: " ".join(f"{k}={cell(v)}" for k, v in (f.get("params") or {}).items()) or None),
    field("remaining", "remaining"),
    field("created", "created_at"),
]


# -- the commands ---------------------------------------------------------------------------------


@click.command()
@click.argument("event", type=click.Choice(EVENT_NAMES))
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 1000), help="How many events.")
@click.option("--document", default=None, help="document_synchronize: this document (default: the newest validated).")
@control_options
def trigger(event: str, count: int, document: str | None, mock_url: str, as_json: bool) -> None:
    """Make the mock fire EVENT, as a clinician would in Askara."""
    if document and event != "document_synchronize":
        raise click.UsageError("--document only goes with document_synchronize.")
    answers = trigger_event(ControlClient(mock_url), event, count, document)
    if as_json:
        print_json(answers)
        return
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


@click.command()
@click.argument("delivery_id")
@control_options
def redeliver(delivery_id: str, mock_url: str, as_json: bool) -> None:
    """Send delivery DELIVERY_ID again."""
    answer = ControlClient(mock_url).post(f"/_mock/deliveries/{delivery_id}/redeliver")
    if as_json:
        print_json(answer)
    else:
        print_table("Redelivery armed", [answer], DELIVERY_COLUMNS)


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
