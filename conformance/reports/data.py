"""The JSON report: the contract of ``../shared/design.md`` — each check by id with its status and evidence.

Each scenario lists its ``problems`` and, structured, its ``missed_waits`` (conformance/waits.py: what was
awaited, the deadline, how late it came or for which documents it never did). ``warnings`` adds what
the verdict does not depend on: the mock's assumptions the integration
leaned on (with its requests as evidence and what to verify in Askara's staging) and the webhooks
whose URL the mock flagged.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from conformance.checks import CHECKS
from conformance.runner import RunResult


def tool_version() -> str:
    try:
        return version("askara-mock")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def to_dict(result: RunResult) -> dict[str, Any]:
    return {
        "tool": "askara-mock",
        "version": tool_version(),
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "error": result.error,
        "started_at": result.started_at,
        "duration_s": round(result.duration_s, 3),
        "target_url": result.config.target_url,
        "mock_url": result.mock_url,
        "mode": result.config.mode,
        "signatures": result.config.signatures,
        "seed": result.seed,
        "summary": {
            status: sum(1 for c in result.checks if c.status == status) for status in ("passed", "failed", "skipped")
        },
        "checks": [
            {
                "id": c.check,
                "title": CHECKS[c.check].title,
                "status": c.status,
                "message": c.message,
                "scenarios": [s for s in c.scenario.split(",") if s],
                "evidence": c.evidence,
            }
            for c in result.checks
        ],
        "scenarios": [
            {
                "name": o.name,
                "source": o.source,
                "status": o.status,
                "duration_s": round(o.duration_s, 3),
                "problems": o.problems,
                "missed_waits": [w.evidence() for w in o.observation.missed_waits] if o.observation else [],
                "checks": [asdict(r) for r in o.results],
            }
            for o in result.scenarios
        ],
        "warnings": warnings_dict(result),
        "integration": result.integration,
        "timeline": result.timeline,
    }


def warnings_dict(result: RunResult) -> dict[str, Any]:
    return {
        "assumptions": [asdict(a) for a in result.warnings.assumptions],
        "webhooks": [asdict(w) for w in result.warnings.webhooks],
    }


def write_json(result: RunResult, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_dict(result), indent=2, default=str), encoding="utf-8")
