"""What the terminal and the plain summary both say: the headline, the waits that ran out, the counts line."""

from __future__ import annotations

from conformance.runner import RunResult
from conformance.verdict import NOT_PLAYED_WHOLE

NOTHING_JUDGED = "nothing was judged"


def headline(result: RunResult) -> str:
    """Why the run has no verdict of its own ("" when it has one)."""
    if not result.error:
        return ""
    if result.error.startswith((NOTHING_JUDGED, NOT_PLAYED_WHOLE)):
        return f"NOT A PASS, {result.error}"
    return f"The run could not be made: {result.error}"


def missed_waits(result: RunResult) -> list[str]:
    """Each scenario's problems: the waits that reached their deadline (how late, or what never came), and
    steps that could not be carried out."""
    return [f"[{outcome.name}] {problem}" for outcome in result.scenarios for problem in outcome.problems]


def counts_line(result: RunResult) -> str:
    counts = {s: sum(1 for c in result.checks if c.status == s) for s in ("passed", "failed", "skipped")}
    error = result.error or ""
    verdict = ("NOTHING JUDGED" if error.startswith(NOTHING_JUDGED) else "NOT A PASS"
               if error.startswith(NOT_PLAYED_WHOLE) else result.verdict.upper())  # fmt: skip
    return (
        f"{verdict}: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped in {result.duration_s:.1f} s"
    )
