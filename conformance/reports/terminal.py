"""The summary on stdout: a table and the run's warnings (assumptions relied on, flagged webhooks) on a
terminal, plain text (reports/plain.py) when stdout is a pipe or a CI log. Progress goes to stderr."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from conformance.reports.plain import write_plain
from conformance.reports.summary import counts_line, headline, missed_waits
from conformance.runner import RunResult


def print_result(result: RunResult, out: TextIO | None = None) -> None:
    """The summary where results go: a rich table on a terminal, plain lines otherwise."""
    out = out or sys.stdout
    if out.isatty():
        print_summary(result, Console(file=out))
    else:
        write_plain(result, out)
        out.flush()


STYLES = {"passed": "green", "failed": "bold red", "skipped": "dim", "error": "yellow"}


def print_summary(result: RunResult, console: Console | None = None) -> None:
    console = console or Console()
    if headline(result):
        console.print(f"[yellow]{escape(headline(result))}[/]")
    table = Table(title="askara-mock conformance", title_justify="left")
    table.add_column("check")
    table.add_column("status")
    table.add_column("result", overflow="fold")
    for check in result.checks:
        style = STYLES.get(check.status, "")
        table.add_row(check.check, f"[{style}]{check.status}[/]", escape(check.message))  # "[basics] ..." is text
    console.print(table)
    waits = missed_waits(result)
    if waits:
        console.print("[yellow]waits that ran out, and other problems:[/]")
        for line in waits:
            console.print(f"  {escape(line)}")
    print_warnings(result, console)
    console.print(f"[{STYLES.get(result.verdict, '')}]{escape(counts_line(result))}[/]")


def print_warnings(result: RunResult, console: Console) -> None:
    """What the verdict does not depend on but an integrator should verify before going live."""
    relied = result.warnings.assumptions
    if relied:
        table = Table(
            title="relied on assumptions (warnings: verify in Askara's staging)", title_justify="left",
            title_style="yellow",
        )  # fmt: skip
        table.add_column("assumption")
        table.add_column("requests", overflow="fold")
        table.add_column("verify", overflow="fold")
        for item in relied:
            shown = ", ".join(f"#{r['journal_id']} {r['method']} {r['path']}" for r in item.requests[:3])
            more = f" (+{item.count - 3} more)" if item.count > 3 else ""
            table.add_row(escape(item.id), escape(f"{item.count}: {shown}{more}"), escape(item.verify))
        console.print(table)
    for hook in result.warnings.webhooks:
        for warning in hook.warnings:
            console.print(f"[yellow]warning:[/] webhook {escape(hook.uuid)} {escape(hook.url)}: {escape(warning)}")
