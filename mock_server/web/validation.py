"""JSON Schema validation of request bodies against the shipped ``schemas/``, as API Platform violations.

jsonschema and referencing are imported with the first body validated: ~45 ms of ``serve``'s
start-up otherwise, for a mock that may never be sent a body.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from mock_server.core.errors import Violation
from mock_server.core.packaged import read_schema, schema_files

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema of ``schemas/`` by file stem, e.g. ``webhook`` for ``webhook.schema.json``."""
    return read_schema(name)


@functools.cache
def _registry() -> Registry:
    from referencing import Registry, Resource

    resources = []
    for path in schema_files():
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.name, Resource.from_contents(contents)))
        if "$id" in contents:
            resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


@functools.cache
def validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name), registry=_registry())


def validate(name: str, data: Any) -> list[Violation]:
    """Every broken rule in ``data``, each naming the field (dotted path) and the rule."""
    errors = sorted(validator(name).iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [_violation(error) for error in errors]


def _violation(error: ValidationError) -> Violation:
    path = ".".join(str(part) for part in error.absolute_path)
    message = error.message
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        if missing:
            field = next((p for p in missing if error.message.startswith(repr(p))), missing[0])
            path = f"{path}.{field}" if path else field
            message = "This value should not be blank (the field is required)."
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - allowed)
        if extra:
            path = f"{path}.{extra[0]}" if path else extra[0]
            message = f"This field is not expected. Allowed fields: {', '.join(sorted(allowed))}."
    elif error.validator == "type":
        message = f"This value should be of type {_type_names(error.validator_value)}; got {error.instance!r:.60}."
    elif error.validator == "enum":
        message = (
            f"The value {error.instance!r:.60} is not a valid choice. Choices: "
            + ", ".join(repr(v) for v in error.validator_value)
            + "."
        )
    return Violation(path, message, code=str(error.validator))


def _type_names(value: Any) -> str:
    if isinstance(value, list):
        return " or ".join(value)
    return str(value)
