"""``conformance run --bundle FILE``: the run as a reproduction bundle (mock_server/support/bundle.py).

A :class:`BundleRecorder` is the run's :class:`~conformance.runner.MockWatcher`: once the mock is set
up (credentials issued, webhook registered, the integration not started yet) it takes the snapshot
of the story's start; before the mock stops it takes the raw HAR transcript and the state at the
end, which names every patient and token the run produced. The bundle is written after the run with
the report (``report.json``) and a manifest; one :class:`Redactor` built from what the mock knew
passes over every member, so a patient keeps one pseudonym in the transcript and in the report.
``scenario.yaml`` is the list of the scenarios that ran, as their files said (``bundle replay`` plays
them again).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from conformance.mockclient import MockClient, MockError
from conformance.reports.data import to_dict, tool_version
from conformance.runner import RunResult
from mock_server.core.snapshot import SECRET_KEYED_TABLES, shareable
from mock_server.support.bundle import Bundle, write_bundle
from mock_server.support.redact import SECRET_KEYS, Redactor, patient_pseudonyms

PRODUCED_BY = "conformance run --bundle"
NO_REDACT_WARNING = (
    "WARNING: --no-redact: the bundle holds live secrets (tokens, client and webhook secrets, signatures, "
    "codes) and real patient names. Do not attach it to a ticket or send it anywhere."
)
RUN_SETTINGS = ("target_url", "start", "mode", "signatures", "register_webhook", "mock_tls", "timeout",
                "startup_timeout", "wait_timeout", "idle_quiet", "stop_grace", "scenario_timeout",
                "rate_limit_interval")  # fmt: skip
"""What of the run's configuration a replay needs or a reader asks about (no secret among them)."""


@dataclass
class BundleRecorder:
    """Captures the mock's state at the story's start and its transcript before it stops."""

    start_snapshot: dict[str, Any] | None = None
    end_snapshot: dict[str, Any] | None = None
    har: dict[str, Any] | None = None
    secrets: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def started(self, mock: MockClient, credentials: dict[str, Any]) -> None:
        self.secrets.update(str(v) for k, v in credentials.items() if k in SECRET_KEYS and v)
        try:
            self.start_snapshot = mock.get("/_mock/snapshot")
        except MockError as exc:
            self.problems.append(f"no snapshot at the start: {exc}")

    def stopping(self, mock: MockClient) -> None:
        for name, path, params in (("har", "/_mock/har", {"redact": "false"}), ("end_snapshot", "/_mock/snapshot", {})):
            try:
                setattr(self, name, mock.get(path, **params))
            except (MockError, OSError) as exc:
                self.problems.append(f"no {path} before the mock stopped: {exc}")

    def redactor(self) -> Redactor:
        """Masks every secret the mock held and gives each patient the pseudonym the mock's exports give."""
        tables = (self.end_snapshot or self.start_snapshot or {}).get("tables", {})
        secrets = set(self.secrets)
        for name in SECRET_KEYED_TABLES:
            for key, record in tables.get(name, {}).get("rows", []):
                secrets.add(str(key))
                secrets.update(str(record.get(k) or "") for k in ("token", "code", "device_code", "user_code"))
        patients = [record for _key, record in tables.get("patients", {}).get("rows", [])]
        return Redactor({s for s in secrets if s}, patient_pseudonyms(patients))


def manifest(result: RunResult, recorder: BundleRecorder, *, redact: bool) -> dict[str, Any]:
    config = result.config
    settings = {name: getattr(config, name) for name in RUN_SETTINGS}
    return {
        "tool": "askara-mock",
        "version": tool_version(),
        "produced_by": PRODUCED_BY,
        "seed": result.seed,  # the mock's: ``bundle replay`` runs with it, so the same documents and uuids
        "mode": config.mode,
        "settings": settings,
        "scenarios": [s.name for s in config.scenarios],
        "problems": recorder.problems or ([] if recorder.har or recorder.start_snapshot else
                                          ["the run's mock never answered: no snapshot, no transcript"]),
        "snapshot": "the harness's mock at the story's start: set up, the integration not started yet; "
        + ("redacted: codes and refresh tokens left out" if redact else "NOT redacted"),
    }


def write_run_bundle(result: RunResult, recorder: BundleRecorder, path: str | Path, *, redact: bool = True) -> bytes:
    """Write the bundle of ``result`` to ``path`` (redacted unless ``redact`` is False); its bytes."""
    snapshot = recorder.start_snapshot
    if snapshot is not None and redact:
        snapshot = shareable(snapshot)
    redactor = recorder.redactor() if redact else Redactor(enabled=False)
    bundle = Bundle(
        manifest(result, recorder, redact=redact),
        scenario=[s.raw for s in result.config.scenarios],
        har=recorder.har,
        snapshot=snapshot,
        report=json.loads(json.dumps(to_dict(result), default=str)),  # as the JSON report writes it
    )
    data = write_bundle(bundle, redactor)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return data


def bundle_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--bundle FILE`` and ``--no-redact``, for ``conformance run`` and ``bundle replay``."""
    command = click.option(
        "--no-redact", "no_redact", is_flag=True,
        help="Write the --bundle unredacted: live secrets and real patient names (it says so, loudly).",
    )(command)  # fmt: skip
    return click.option(
        "--bundle", "bundle_path", type=click.Path(dir_okay=False), default=None,
        help="Write the run as a reproduction bundle (zip): scenarios, snapshot at the start, HAR, report, "
        "manifest; redacted. `askara-mock bundle replay FILE` plays it against another build.",
    )(command)  # fmt: skip


def finish_bundle(
    result: RunResult, recorder: BundleRecorder | None, path: str | None, *, no_redact: bool, console: Console
) -> None:
    """Write the run's bundle when ``--bundle`` asked for one, saying where (and, unredacted, warning)."""
    if recorder is None or path is None:
        return
    if no_redact:
        console.print(f"[bold red]{escape(NO_REDACT_WARNING)}[/]")
    write_run_bundle(result, recorder, path, redact=not no_redact)
    for problem in recorder.problems:
        console.print(f"[yellow]bundle:[/] {escape(problem)}")
    console.print(f"[dim]wrote {path} (bundle{'' if no_redact else ', redacted'})[/]")
