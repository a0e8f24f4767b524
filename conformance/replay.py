"""``bundle replay``: play a bundle's story against another build of the integration, and say where
the new run diverges from the recorded one.

The bundle (mock_server/support/bundle.py) gives the scenarios (``scenario.yaml``: one scenario, or
the list ``conformance run --bundle`` wrote), the seed, the mode and the run's settings (manifest);
the run is an ordinary :func:`conformance.runner.run` with them, so its verdicts are the usual ones.
The recorded ``report.json``, when the bundle has one, is then compared with the new report
(reports/divergence.py). The replay can itself be written as a bundle (``--bundle``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.reports.data import to_dict
from conformance.reports.divergence import divergence
from conformance.run_bundle import PRODUCED_BY
from conformance.runner import RunConfig, RunResult, run
from conformance.scenario import Scenario, ScenarioError, parse
from mock_server.support.bundle import Bundle, read_bundle

REPLAYED_SETTINGS = ("mode", "signatures", "register_webhook", "mock_tls", "wait_timeout", "idle_quiet",
                     "scenario_timeout", "rate_limit_interval")  # fmt: skip
"""Settings of the recorded run a replay keeps (the target, its start command and the run's limits are the new
build's). Only a run bundle's manifest has most of them; an export's has the mock's settings."""


class BundleError(Exception):
    """The file is not a bundle this build can replay; the message says why."""


@dataclass
class Replay:
    bundle: Bundle
    result: RunResult
    divergence: dict[str, Any] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """The JSON report of the new run with its ``divergence`` section."""
        return {**to_dict(self.result), "divergence": self.divergence, "replayed_bundle": self.bundle.manifest}


def load(path: str | Path) -> tuple[Bundle, list[Scenario]]:
    """The bundle at ``path`` and the scenarios it replays."""
    try:
        bundle = read_bundle(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path}: {exc}") from None
    stories = bundle.scenario if isinstance(bundle.scenario, list) else [bundle.scenario] if bundle.scenario else []
    if not stories:
        raise BundleError(f"{path}: the bundle holds no scenario.yaml: nothing to replay")
    scenarios = []
    for index, story in enumerate(stories):
        try:
            scenarios.append(parse(yaml.safe_dump(story, sort_keys=False), f"{path}:scenario.yaml[{index}]"))
        except ScenarioError as exc:
            raise BundleError(str(exc)) from None
    return bundle, scenarios


def config_for(bundle: Bundle, scenarios: list[Scenario], target_url: str, **overrides: Any) -> RunConfig:
    """The run that replays ``bundle``: its seed, mode and settings, the new target, ``overrides`` last."""
    manifest = bundle.manifest
    recorded = (manifest.get("settings") or {}) if manifest.get("produced_by") == PRODUCED_BY else {}
    kept = {k: recorded[k] for k in REPLAYED_SETTINGS if recorded.get(k) is not None}
    kept["mode"] = manifest.get("mode") or kept.get("mode", "webhook")
    if isinstance(manifest.get("seed"), int):
        kept["seed"] = manifest["seed"]
    return RunConfig(target_url=target_url, scenarios=scenarios, **{**kept, **overrides})


def replay(path: str | Path, target_url: str, **overrides: Any) -> Replay:
    """Replay the bundle at ``path`` against ``target_url`` (``overrides``: start, timeout, ... of RunConfig)."""
    bundle, scenarios = load(path)
    result = run(config_for(bundle, scenarios, target_url, **overrides))
    return Replay(bundle, result, divergence(bundle.report, to_dict(result)))
