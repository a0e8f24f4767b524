"""The import graph keeps the layers of ARCHITECTURE.md: who may import whom, no cycles, nothing hidden.

Only imports that run count (those under ``if TYPE_CHECKING:`` are types, not dependencies).
An import inside a function hides an edge of the graph from a reader, so first-party imports
must stand at module level.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.checks import CHECKS
from conformance.vocabulary import CHECK_IDS
from mock_server.core.context import MockContext
from mock_server.core.settings import Settings
from mock_server.core.vocabulary import FAULT_KINDS

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("mock_server", "conformance")

# A module of layer X may import modules of the layers ALLOWED[X] (and the third-party world).
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "domain": {"core", "domain"},
    "web": {"core", "web"},
    "faults": {"core", "domain", "web", "faults"},
    "sender": {"core", "domain", "faults", "sender"},
    "api": {"core", "domain", "web", "api"},
    "files": {"core", "domain", "web", "files"},
    "support": {"core", "support"},
    "control": {"core", "domain", "web", "faults", "sender", "api", "files", "support", "control"},
    "app": {"core", "domain", "web", "faults", "sender", "api", "files", "support", "control", "app"},
    "cli": {"core", "domain", "web", "faults", "sender", "api", "files", "support", "control", "app", "cli"},
    "testing": {"core", "domain", "web", "faults", "sender", "api", "files", "support", "control", "app", "testing"},
    "conformance": {"core", "support", "app", "conformance"},
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "conformance":
        return "conformance"
    if len(parts) == 1 or parts[1] in ("app", "serving"):
        return "app"
    return parts[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(p for package in FIRST_PARTY for p in (ROOT / package).rglob("*.py"))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.Module, package: str) -> Iterator[tuple[int, str, bool]]:
    """(line, first-party module imported, at module level?) for every import that runs."""

    def visit(nodes: list[ast.stmt], top: bool) -> Iterator[tuple[int, str, bool]]:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node):
                yield from visit(node.orelse, top)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield node.lineno, alias.name, top
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    # "from pkg import module" names a module; "from module import name" names its module.
                    yield node.lineno, f"{base}.{alias.name}", top
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list) and children and isinstance(children[0], ast.AST):
                    nested = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
                    inner = [c for c in children if isinstance(c, ast.stmt)]
                    inner += [s for h in children if isinstance(h, ast.ExceptHandler) for s in h.body]
                    yield from visit(inner, top and not nested and not isinstance(node, ast.ClassDef))

    yield from visit(tree.body, True)


def resolve(name: str, known: set[str]) -> str | None:
    """The first-party module an imported name belongs to (longest known prefix)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        candidate = ".".join(parts[:cut])
        if candidate in known:
            return candidate
    return None


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    files = source_files()
    known = {module_name(p) for p in files}
    graph: dict[str, set[str]] = {}
    local: list[str] = []
    for path in files:
        module = module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = graph.setdefault(module, set())
        for line, name, top in runtime_imports(tree, package):
            target = resolve(name, known)
            if target is None or target == module:
                continue
            edges.add(target)
            if not top:
                local.append(f"{path.relative_to(ROOT)}:{line} imports {target} inside a function")
    return graph, local


def test_mock_server_never_imports_conformance() -> None:
    graph, _ = import_graph()
    offenders = [f"{m} -> {t}" for m, targets in graph.items() if m.startswith("mock_server")
                 for t in targets if t.startswith("conformance")]
    assert not offenders, f"mock_server must not import conformance: {offenders}"


def test_every_import_respects_the_layers() -> None:
    graph, _ = import_graph()
    offenders = []
    for module, targets in graph.items():
        allowed = ALLOWED[layer_of(module)]
        for target in sorted(targets):
            if layer_of(target) not in allowed:
                offenders.append(f"{module} ({layer_of(module)}) -> {target} ({layer_of(target)})")
    assert not offenders, "imports that cross the layers the wrong way:\n" + "\n".join(offenders)


def test_the_import_graph_has_no_cycles() -> None:
    graph, _ = import_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                walk(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    # A package's __init__ re-exporting its own modules is not a cycle a reader trips on.
    real = [c for c in cycles if not all(m == c[0] or m.startswith(c[0] + ".") for m in c[1:])
            and not all(c[-1] == m or c[-1].startswith(m + ".") for m in c[:1])]
    assert not real, "import cycles:\n" + "\n".join(" -> ".join(c) for c in real)


def test_first_party_imports_stand_at_module_level() -> None:
    _, local = import_graph()
    assert not local, "\n".join(local)


def test_every_module_says_its_job_and_stays_small() -> None:
    too_long, silent = [], []
    for path in source_files():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 420:
            too_long.append(f"{path.relative_to(ROOT)}: {len(text.splitlines())} lines")
        if text.strip() and ast.get_docstring(ast.parse(text)) is None:
            silent.append(str(path.relative_to(ROOT)))
    assert not too_long, too_long
    assert not silent, f"modules without a first line saying their job: {silent}"


def test_check_ids_are_defined_once_and_all_registered() -> None:
    assert sorted(CHECKS) == sorted(CHECK_IDS)


def test_a_context_missing_a_collaborator_fails_at_start_up() -> None:
    context = MockContext(Settings(client_secret="x"))
    with pytest.raises(ValueError, match="sender") as caught:
        context.check_wired()
    for kind in FAULT_KINDS:
        assert repr(kind) in str(caught.value)
