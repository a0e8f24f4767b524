"""Files the package ships and reads at run time (JSON Schemas, the web page), via importlib.resources.

Nothing is looked up beside the source tree: an installed wheel reads exactly what it carries.
The repository's top-level ``schemas/`` is a link to :data:`SCHEMAS` (see ARCHITECTURE.md).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

SCHEMA_SUFFIX = ".schema.json"


def files(package: str) -> Traversable:
    """``importlib.resources.files``, imported on the first read (~3 ms of ``serve``'s start-up, which
    reads no file until a body is validated or the web page asked for)."""
    from importlib.resources import files as package_files

    return package_files(package)


def schemas_dir() -> Traversable:
    return files("mock_server") / "schemas"


def schema_files() -> list[Traversable]:
    """Every ``*.schema.json`` the package ships, by name."""
    found = [entry for entry in schemas_dir().iterdir() if entry.name.endswith(SCHEMA_SUFFIX)]
    return sorted(found, key=lambda entry: entry.name)


def read_schema(name: str) -> dict[str, Any]:
    """The schema ``{name}.schema.json``, parsed."""
    schema: dict[str, Any] = json.loads((schemas_dir() / f"{name}{SCHEMA_SUFFIX}").read_text(encoding="utf-8"))
    return schema


def read_text(package: str, name: str) -> str:
    """A text file shipped inside ``package`` (e.g. the web page)."""
    return (files(package) / name).read_text(encoding="utf-8")
