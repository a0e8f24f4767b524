"""Live progress and the summary table in the terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from conformance.runner import RunResult

STYLES = {"passed": "green", "failed": "bold red", "skipped": "dim", "error": "yellow"}


def print_summary(result: RunResult, console: Console | None = None) -> None:
    console = console or Console()
    if result.error:
        console.print(f"[yellow]The run could not be made:[/] {escape(result.error)}")
    table = Table(title="askara-mock conformance", title_justify="left")
    table.add_column("check")
    table.add_column("status")
    table.add_column("result", overflow="fold")
    for check in result.checks:
        style = STYLES.get(check.status, "")
        table.add_row(check.check, f"[{style}]{check.status}[/]", escape(check.message))  # "[basics] ..." is text
    console.print(table)
    counts = {s: sum(1 for c in result.checks if c.status == s) for s in ("passed", "failed", "skipped")}
    verdict_style = STYLES.get(result.verdict, "")
    console.print(
        f"[{verdict_style}]{result.verdict.upper()}[/]: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped in {result.duration_s:.1f} s"
    )
