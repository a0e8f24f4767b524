"""Scenario files: every standard one validates; the same file with the same seed creates the same
documents and notes; a broken file's errors name the line, the path and what would be right.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conformance.mockclient import MockClient
from conformance.runner import EXIT_PASSED, RunConfig, run
from conformance.scenario import STEP_KINDS, ScenarioError, load, parse, standard_files
from mock_server.cli import main
from mock_server.core.settings import Settings
from mock_server.serving import free_port, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "integrations" / "reference.py"


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_every_standard_scenario_file_validates() -> None:
    files = [str(path) for path in standard_files()]
    assert len(files) >= 13
    done = cli("scenario", "validate", *files)
    assert done.exit_code == 0, done.output
    assert [line.split(":")[0] for line in done.output.splitlines()] == files
    assert all(": ok (" in line for line in done.output.splitlines())


def test_scenario_list_names_every_standard_scenario() -> None:
    done = cli("scenario", "list")
    assert done.exit_code == 0, done.output
    names = [line.split()[0] for line in done.output.splitlines()]
    assert names == [load(str(path)).name for path in standard_files()]
    assert len(set(names)) == len(names)


def test_standard_scenarios_have_distinct_seeds_and_known_modes() -> None:
    scenarios = [load(str(path)) for path in standard_files()]
    seeds = [s.seed for s in scenarios]
    assert None not in seeds and len(set(seeds)) == len(seeds)
    assert {s.mode for s in scenarios} == {"webhook", "polling"}


def created_story(seed: int, scenario: str, tmp_path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Play ``scenario`` against the reference with a mock of ``seed`` we hold, and return what the
    mock holds afterwards: documents and notes without their times (those follow the real clock)."""
    port = free_port()
    settings = Settings(seed=seed, clock="real", rate_limit_interval=3)
    with serve_in_thread(settings) as mock:
        result = run(
            RunConfig(
                target_url=f"http://127.0.0.1:{port}/webhook",
                scenarios=[load(scenario)],
                start=f"{sys.executable} {REFERENCE} --port {port} --data-dir {tmp_path}",
                mock_url=mock.url,
                timeout=40,
            )
        )
        assert result.exit_code == EXIT_PASSED, [(c.check, c.message) for c in result.checks if c.status == "failed"]
        client = MockClient(mock.url)
        try:
            documents = [
                {
                    "uuid": d["uuid"],
                    "type": d["type"],
                    "title": d["title"],
                    "state": d["state"],
                    "synchronized": d["synchronized"],
                    "patient": d["patient"],
                }
                for d in client.list_of("/_mock/documents")
            ]
            notes = [
                {"uuid": n["uuid"], "type": n["type"], "content": n["content"], "patient": n["patient"]}
                for n in client.list_of("/_mock/notes")
            ]
        finally:
            client.close()
    return documents, notes


@pytest.mark.e2e
def test_the_same_file_with_the_same_seed_creates_the_same_documents(tmp_path: Path) -> None:
    scenario = load("expired-link")
    assert scenario.seed == 5
    first = created_story(5, "expired-link", tmp_path / "first")
    second = created_story(5, "expired-link", tmp_path / "second")
    assert first == second
    documents, _ = first
    # The document the scenario created is among them, imported (synchronized) in both runs.
    assert [d for d in documents if d["synchronized"]], documents
    other_seed, _ = created_story(6, "expired-link", tmp_path / "third")
    assert {d["uuid"] for d in other_seed}.isdisjoint({d["uuid"] for d in documents})
    assert [d["patient"]["lastName"] for d in other_seed] != [d["patient"]["lastName"] for d in documents]


BROKEN = """\
name: broken-story
seed: 4
checks: [always-confirm, dedup]
steps:
  - trigger: {event: new_document, as: docs}
  - fault: {kind: dupe}
  - wiat: {until: idle}
  - wait: {until: status-reports, timeout: 5, documents: docs}
"""


def test_an_invalid_file_names_the_line_of_each_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load(str(path))
    lines = str(caught.value).splitlines()
    assert lines == [
        f"{path}:6: steps[1].fault.kind: 'dupe' is not one of duplicate, out_of_order, concurrent, forged_signature, "
        "lost_ack, batch, route, expire_tokens, drain_bucket, download, expired_link, release_delays. Did you mean "
        "'duplicate'?",
        f"{path}:7: steps[2]: unknown step kind 'wiat'. Did you mean 'wait'? Kinds: {', '.join(sorted(STEP_KINDS))}",
        f"{path}:8: steps[3].wait: unexpected field 'documents' (did you mean 'document'?); allowed: count, document, "
        "path, quiet, timeout, until",
    ], lines
    # Once those are right, the unknown check is named with its line too.
    fixed = BROKEN.replace("dupe", "duplicate").replace("wiat", "wait").replace("documents:", "document:")
    with pytest.raises(ScenarioError) as caught:
        parse(fixed, "fixed.yaml")
    assert str(caught.value).startswith("fixed.yaml:3: checks[1]: unknown check 'dedup'. Did you mean 'dedupe'?")


def test_validate_reports_the_line_and_exits_1(tmp_path: Path) -> None:
    good = standard_files()[0]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nchecks: [dedupe]\nsteps:\n  - advance: -3\n", encoding="utf-8")
    done = cli("scenario", "validate", str(good), str(bad))
    assert done.exit_code == 1
    assert f"{good}: ok (basics:" in done.output
    assert f"{bad}:4: steps[0].advance: -3 is less than the minimum of 0" in done.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nchecks: [dedupe]\nsteps:\n  - trigger: {event: new_document\n", ":5: (top): not valid YAML"),
        ("- just\n- a list\n", ":1: (top): a scenario is a YAML mapping"),
        ("name: x\nsteps: []\n", ":1: (top): 'checks' is a required property"),
        ("name: Bad Name\nchecks: [dedupe]\nsteps: []\n", ":1: name: 'Bad Name' does not match"),
    ],
    ids=["yaml-syntax", "not-a-mapping", "missing-checks", "bad-name"],
)
def test_other_invalid_files_name_a_line(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse(text, "s.yaml")
    assert expected in str(caught.value), str(caught.value)
