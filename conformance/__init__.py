"""The conformance harness: proves an integration handles what Askara will do to it.

``run(RunConfig(target_url=..., scenarios=standard_suite(), start="..."))`` from any test file;
the pytest plugin (``conformance.plugin``) wraps the same function in fixtures.
"""

from conformance.checks import CHECKS, CheckResult
from conformance.runner import RunConfig, RunResult, run
from conformance.scenario import Scenario, ScenarioError, load, standard_suite

__all__ = [
    "CHECKS",
    "CheckResult",
    "RunConfig",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "load",
    "run",
    "standard_suite",
]
