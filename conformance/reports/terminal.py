"""Live progress, the summary table and the run's warnings (assumptions relied on, flagged webhooks) in the terminal."""

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
    print_warnings(result, console)
    counts = {s: sum(1 for c in result.checks if c.status == s) for s in ("passed", "failed", "skipped")}
    verdict_style = STYLES.get(result.verdict, "")
    console.print(
        f"[{verdict_style}]{result.verdict.upper()}[/]: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped in {result.duration_s:.1f} s"
    )


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
