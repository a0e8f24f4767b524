"""The summary as plain text, for a pipe or a CI log: no colour, no box drawing, lines that fit.

Rich squeezes a table into the 80 columns it assumes off a terminal (three-character columns for a
long message), so when stdout is not a terminal the summary is written here instead: one line per
check, its message wrapped under itself at ``COLUMNS`` (80 when unset).
"""

from __future__ import annotations

import os
import textwrap
from typing import TextIO

from conformance.reports.summary import counts_line, headline, missed_waits
from conformance.runner import RunResult

DEFAULT_WIDTH = 80


def width() -> int:
    """``COLUMNS`` when a CI sets it, else 80; never narrower than 40."""
    value = os.environ.get("COLUMNS", "")
    return max(40, int(value)) if value.isdigit() else DEFAULT_WIDTH


def _wrapped(first: str, text: str, indent: int, columns: int) -> list[str]:
    lines = textwrap.wrap(text, max(20, columns - indent), break_on_hyphens=False, break_long_words=True) or [""]
    return [first + lines[0], *(" " * indent + line for line in lines[1:])]


def write_plain(result: RunResult, out: TextIO, columns: int | None = None) -> None:
    columns = columns or width()
    lines: list[str] = []
    if headline(result):
        lines += textwrap.wrap(headline(result), columns, break_on_hyphens=False)
    lines.append("askara-mock conformance")
    id_width = max((len(c.check) for c in result.checks), default=10) + 2
    indent = 2 + id_width + 9
    for check in result.checks:
        lines += _wrapped(f"  {check.check:<{id_width}}{check.status:<9}", check.message, indent, columns)
    waits = missed_waits(result)
    if waits:
        lines.append("waits that ran out, and other problems:")
        for text in waits:
            lines += _wrapped("  ", text, 4, columns)
    relied = result.warnings.assumptions
    if relied:
        lines.append("relied on assumptions (warnings: verify in Askara's staging):")
        for item in relied:
            shown = ", ".join(f"#{r['journal_id']} {r['method']} {r['path']}" for r in item.requests[:3])
            more = f" (+{item.count - 3} more)" if item.count > 3 else ""
            lines += _wrapped("  ", f"{item.id}: {item.count}: {shown}{more}", 4, columns)
            lines += _wrapped("    verify: ", item.verify, 12, columns)
    for hook in result.warnings.webhooks:
        for warning in hook.warnings:
            lines += _wrapped("", f"warning: webhook {hook.uuid} {hook.url}: {warning}", 2, columns)
    lines.append(counts_line(result))
    out.write("\n".join(lines) + "\n")
