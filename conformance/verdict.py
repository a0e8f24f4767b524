"""A run's verdict from what its scenarios judged: passed only when something was judged and the
story was played whole; never "passed" about what was not judged.

- ``failed`` (exit 1): a check failed.
- ``error`` (exit 2): nothing was judged (no scenario, every check skipped), or a scenario could not
  be played whole (a step the mock refused, the integration gone mid-scenario): its checks judged
  part of a story, so a pass would say more than the run saw.
- ``passed`` (exit 0) otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.checks import CheckResult
    from conformance.runner import ScenarioOutcome

NOT_PLAYED_WHOLE = "not played whole"
EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_NOT_RUN = 2


def verdict_of(outcomes: list[ScenarioOutcome], checks: list[CheckResult]) -> tuple[str, int, str | None]:
    """``(verdict, exit code, why not passed)`` of a run."""
    if any(c.status == "failed" for c in checks):
        return "failed", EXIT_FAILED, None
    why = nothing_judged(outcomes, checks) or not_played_whole(outcomes)
    return ("error", EXIT_NOT_RUN, why) if why else ("passed", EXIT_PASSED, None)


def nothing_judged(outcomes: list[ScenarioOutcome], checks: list[CheckResult]) -> str | None:
    """Why the run judged nothing (no scenario played, or every check skipped), or None when it judged."""
    if not outcomes:
        return (
            "nothing was judged: no scenario was given and the standard suite is empty "
            "(is the package installed without its scenarios? `askara-mock scenario list` shows them)"
        )
    if not any(c.status == "passed" for c in checks):
        played = [o.name for o in outcomes if o.status != "skipped"]
        why = f"every scenario was skipped ({outcomes[0].results[0].message if outcomes[0].results else 'no checks'})"
        if played:
            why = f"every check was skipped in {', '.join(played)}"
            problems = [p for o in outcomes for p in o.problems]
            if problems:
                why += f" ({problems[0]})"
        return f"nothing was judged: {why}"
    return None


def not_played_whole(outcomes: list[ScenarioOutcome]) -> str | None:
    """Why a scenario's story was cut (its first step problem), or None when every one was played whole."""
    broken = [o for o in outcomes if o.status == "error"]
    if not broken:
        return None
    first = broken[0]
    problem = first.problems[0] if first.problems else "a step could not be carried out"
    others = f" (and {len(broken) - 1} more scenario(s))" if len(broken) > 1 else ""
    return f"{NOT_PLAYED_WHOLE}: scenario {first.name}: {problem}{others}; its checks judged part of its story"
