"""How the CLI prints: rich tables on a wide terminal, plain copyable lines otherwise, JSON on request.

* stdout a terminal and the table fits: a rich table. Too wide for the terminal: one block of
  ``name  value`` lines per record, so nothing is squeezed into 3-character columns.
* stdout not a terminal (piped, redirected, captured): a header line, then one record per line,
  columns separated by two spaces or more, never truncated; empty cells print ``-`` and runs of
  white space inside a cell are collapsed, so ``awk -F'  +'`` splits the columns. Titles and
  notes go to stderr, so stdout holds only the records.
* ``--json``: the mock's JSON as it answered it (``listen``: one JSON object per line).

:func:`program` spells the command so that the user's shell finds it from where they are, and
:data:`DEFAULT_MOCK_URL` is the address a spelled command may leave out (``--mock-url``'s default).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

Column = tuple[str, Callable[[Any], Any]]

DEFAULT_MOCK_URL = "http://127.0.0.1:8765"
"""Where the client commands look for the mock by default; kept here, not with the HTTP client,
so that ``serve``'s banner spells commands without importing httpx."""


def dig(record: Any, path: str) -> Any:
    """``record["a"]["b"]`` for ``"a.b"``; None when any step is missing."""
    for part in path.split("."):
        if not isinstance(record, dict):
            return None
        record = record.get(part)
    return record


def field(header: str, *paths: str) -> Column:
    """A column showing the first of ``paths`` present in the record."""

    def get(record: Any) -> Any:
        return next((v for v in (dig(record, p) for p in paths) if v is not None), None)

    return header, get


def cell(value: Any) -> str:
    """A cell: epoch seconds become UTC times, containers compact JSON, None an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value > 1_000_000_000:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def plain_cell(value: Any) -> str:
    """A cell on one line with single spaces only (two spaces separate columns); ``-`` when empty."""
    return " ".join(cell(value).split()) or "-"


def is_terminal() -> bool:
    return sys.stdout.isatty()


def console(*, stderr: bool = False) -> Console:
    """A rich console, rich imported only now: only a terminal needs it, and it costs ~30 ms."""
    from rich.console import Console

    return Console(stderr=stderr)


def note(message: str) -> None:
    """A line for the human, on stderr (stdout stays the records)."""
    click.echo(message, err=True)


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows padded into columns two spaces apart; the last column is not padded."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def print_table(title: str, records: Sequence[Any], columns: Sequence[Column], *, empty: str = "nothing") -> None:
    if not records:
        (console().print(f"{title}: {empty}", markup=False, highlight=False) if is_terminal()
         else note(f"{title}: {empty}"))
        return
    rows = [[plain_cell(get(record)) for _, get in columns] for record in records]
    headers = [header for header, _ in columns]
    if not is_terminal():
        note(title)
        for line in aligned([headers, *rows]):
            click.echo(line)
        return
    from rich.table import Table
    from rich.text import Text

    out = console()
    table = Table(title=Text(title), title_justify="left")
    for header in headers:
        table.add_column(header, no_wrap=True)
    for row in rows:
        table.add_row(*(Text(value) for value in row))
    if out.measure(table, options=out.options.update_width(1_000_000)).maximum <= out.width:
        out.print(table)
        return
    out.print(Text(title, style="bold"))
    for row in rows:  # too wide for this terminal: one block per record, long values wrap whole
        out.print()
        for line in aligned([[h, v] for h, v in zip(headers, row, strict=True)]):
            out.print(Text(line), soft_wrap=True)


def print_pairs(title: str, pairs: Iterable[tuple[str, Any]], *, err: bool = False) -> None:
    """``name  value`` lines (values whole, on one line each; a terminal soft-wraps them)."""
    lines = aligned([[name, plain_cell(value)] for name, value in pairs])
    terminal = sys.stderr.isatty() if err else is_terminal()
    if terminal:
        from rich.text import Text

        out = console(stderr=err)
        out.print(Text(title, style="bold"))
        for line in lines:
            out.print(Text(line), soft_wrap=True)
        return
    note(title)
    for line in lines:
        click.echo(line, err=err)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def print_json_line(data: Any) -> None:
    """One JSON object per line (``listen --json``, ``serve --json``): a reader can ``readline``."""
    click.echo(json.dumps(data, separators=(",", ":"), ensure_ascii=False))


def program() -> str:
    """``askara-mock`` spelled so the user's shell runs it from here: the bare name when PATH finds
    this very script, else its path relative to the working directory (``.venv/bin/askara-mock``
    after the README's setup command), else its absolute path."""
    argv0 = Path(sys.argv[0])
    candidates = [argv0] if argv0.name == "askara-mock" else []
    candidates.append(Path(sys.executable).parent / "askara-mock")
    script = next((c.absolute() for c in candidates if c.is_file()), None)
    if script is None:
        return "askara-mock"
    found = shutil.which("askara-mock")
    if found and os.path.samefile(found, script):
        return "askara-mock"
    try:
        relative = os.path.relpath(script)
    except ValueError:
        relative = str(script)
    spelled = str(script) if relative.startswith("..") else relative
    return shlex.quote(spelled if "/" in spelled else "./" + spelled)
