"""Scenario files: YAML validated by ``schemas/scenario.schema.json``, errors explained with the line.

A scenario is a story told to the mock (seed, data, events, faults, clock moves, waits) and the
checks it feeds. Loading keeps, for every value, the line it came from, so ``askara-mock scenario
validate`` can say "line 12: steps[2].fault.kind: 'dupe' is not one of ...".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from conformance.vocabulary import CHECK_IDS
from mock_server.core.packaged import read_schema

STANDARD_PACKAGE = "conformance"
"""The standard scenarios ship inside this package (``conformance/scenarios/``); the repository's
top-level ``scenarios/`` is a link to them."""
STEP_KINDS = (
    "create", "trigger", "validate", "fault", "advance", "wait", "observe", "send", "fuzz", "start",
    "unannounced", "send_about", "restart",
)  # fmt: skip


class ScenarioError(Exception):
    """A scenario file that cannot be used; ``problems`` are (line, path, message)."""

    def __init__(self, source: str, problems: list[tuple[int | None, str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}:{line or '?'}: {path or '(top)'}: {message}" for line, path, message in problems]
        super().__init__("\n".join(lines))


@dataclass
class Scenario:
    name: str
    source: str
    checks: list[str]
    steps: list[dict[str, Any]]
    description: str = ""
    seed: int | None = None
    mode: str = "webhook"
    requires: list[str] = field(default_factory=list)
    timeout: float = 20.0
    raw: dict[str, Any] = field(default_factory=dict)


def _schema() -> dict[str, Any]:
    return read_schema("scenario")


def _line_map(
    node: yaml.Node, path: tuple[Any, ...] = (), lines: dict[tuple[Any, ...], int] | None = None
) -> dict[tuple[Any, ...], int]:
    """Line (1-based) of every value in a composed YAML document, keyed by its path."""
    lines = {} if lines is None else lines
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), lines)
    return lines


def _dotted(path: tuple[Any, ...] | list[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _explain(error: ValidationError) -> str:
    if error.validator == "enum" and isinstance(error.instance, str):
        choices = [str(c) for c in error.validator_value]
        close = difflib.get_close_matches(error.instance, choices, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"{error.instance!r} is not one of {', '.join(choices)}.{hint}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hints = []
        for name in extra:
            close = difflib.get_close_matches(name, allowed, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return f"unexpected field {', '.join(hints)}; allowed: {', '.join(allowed)}"
    if error.validator in ("oneOf", "anyOf") and isinstance(error.instance, dict):
        kinds = sorted(STEP_KINDS)
        if len(error.instance) != 1:
            return f"a step has exactly one key naming its kind ({', '.join(kinds)}); got {sorted(error.instance)}"
        (kind,) = error.instance
        if kind not in STEP_KINDS:
            close = difflib.get_close_matches(kind, kinds, n=1)
            return (
                f"unknown step kind {kind!r}."
                + (f" Did you mean {close[0]!r}?" if close else "")
                + f" Kinds: {', '.join(kinds)}"
            )
    return error.message


def parse(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate scenario text; raise ScenarioError with lines on any problem."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(source, [(line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict) or node is None:
        raise ScenarioError(source, [(1, "", "a scenario is a YAML mapping with name, checks and steps")])
    lines = _line_map(node)
    validator = Draft202012Validator(_schema())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(error.absolute_path)
        line = None
        for cut in range(len(path), -1, -1):
            if path[:cut] in lines:
                line = lines[path[:cut]]
                break
        problems.append((line, _dotted(path), _explain(error)))
    if problems:
        raise ScenarioError(source, problems)
    unknown = [(i, c) for i, c in enumerate(data["checks"]) if c not in CHECK_IDS]
    if unknown:
        raise ScenarioError(
            source,
            [
                (
                    lines.get(("checks", i)),
                    f"checks[{i}]",
                    f"unknown check {c!r}."
                    + (f" Did you mean {m[0]!r}?" if (m := difflib.get_close_matches(c, list(CHECK_IDS), n=1)) else "")
                    + f" Known: {', '.join(sorted(CHECK_IDS))}",
                )
                for i, c in unknown
            ],
        )
    return Scenario(
        name=data["name"],
        source=source,
        checks=list(data["checks"]),
        steps=list(data.get("steps", [])),
        description=data.get("description", ""),
        seed=data.get("seed"),
        mode=data.get("mode", "webhook"),
        requires=list(data.get("requires", [])),
        timeout=float(data.get("timeout", 20.0)),
        raw=data,
    )


def load(name_or_path: str) -> Scenario:
    """A scenario by file path, or by the name of a standard one (``dedupe``)."""
    path = Path(name_or_path)
    if path.exists():
        return parse(path.read_text(encoding="utf-8"), str(path))
    for scenario in standard_suite():
        if name_or_path in (scenario.name, Path(scenario.source).stem):
            return scenario
    names = standard_names()
    close = difflib.get_close_matches(name_or_path, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ScenarioError(
        name_or_path, [(None, "", f"no such file or standard scenario.{hint} Standard: {', '.join(names)}")]
    )


def standard_files() -> list[Traversable]:
    """The standard scenario files the package ships, in file order (none when a build left them out:
    the run then judges nothing and says so, exit 2)."""
    folder = files(STANDARD_PACKAGE) / "scenarios"
    if not folder.is_dir():
        return []
    return sorted((entry for entry in folder.iterdir() if entry.name.endswith(".yaml")), key=lambda e: e.name)


def standard_suite() -> list[Scenario]:
    """The standard suite, in file order."""
    return [parse(path.read_text(encoding="utf-8"), f"scenarios/{path.name}") for path in standard_files()]


def standard_names() -> list[str]:
    return [scenario.name for scenario in standard_suite()]
