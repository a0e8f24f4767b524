"""Users get a wheel, not this checkout: what only works from the source tree does not work.

The e2e tests build the sdist and, from it, the wheel (as ``python -m build`` does, on a clean copy
of the tree so no stale ``build/`` leaks in) and prove both carry the tree's files byte for byte:
every module, the JSON Schemas, the standard scenarios and the web page the code reads at run
time. The quick tests keep the top-level ``schemas``/``scenarios`` links pointing into the packages
and ``[project.dependencies]`` equal to what the packages import at run time.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest

from mock_server.serving import free_port

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mock_server", "conformance")
DATA = ("mock_server/schemas", "conformance/scenarios", "mock_server/control/ui.html", "mock_server/control/ui.css",
        "mock_server/control/ui.js", "mock_server/control/ui_timeline.js")
"""What the packages read at run time besides their modules (mock_server/core/packaged.py, conformance/scenario.py)."""
SDIST_ONLY = ("docs", "tests", "bench")
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.py[cod]", ".hypothesis",
              ".ruff_cache", ".pytest_cache", "reports", "*.sqlite3")  # fmt: skip
LINKS = {"schemas": "mock_server/schemas", "scenarios": "conformance/scenarios"}

OPTIONAL_IMPORTS = {
    "conformance/plugin.py": ("pytest", "pytest"),  # loaded only by pytest itself (entry point pytest11)
    "mock_server/sender/_transports/aiohttp_transport.py": ("aiohttp", "bench"),  # the bench's comparison
}
"""Files allowed to import a distribution that is not a runtime dependency: (distribution, extra)."""
USED_WITHOUT_IMPORT = {
    "uvloop": "uvicorn's loop='auto' runs `askara-mock serve` on it when installed (bench/README.md)",
}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    assert match, spec
    return _normal(match.group())


def _is_source(relative: Path) -> bool:
    return not any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in NOT_SOURCE)


def tree_files(*prefixes: str) -> dict[str, bytes]:
    """The tree's files under ``prefixes`` (relative POSIX path -> content), build litter left out."""
    found: dict[str, bytes] = {}
    for prefix in prefixes:
        start = ROOT / prefix
        for path in [start] if start.is_file() else start.rglob("*"):
            relative = path.relative_to(ROOT)
            if path.is_file() and _is_source(relative):
                found[relative.as_posix()] = path.read_bytes()
    return found


def _under(files: dict[str, bytes], prefixes: tuple[str, ...]) -> dict[str, bytes]:
    return {name: data for name, data in files.items() if name.split("/")[0] in prefixes}


def _compare(built: dict[str, bytes], tree: dict[str, bytes], what: str) -> None:
    missing = sorted(set(tree) - set(built))
    extra = sorted(set(built) - set(tree))
    differ = sorted(name for name in set(tree) & set(built) if tree[name] != built[name])
    assert not (missing or extra or differ), (
        f"{what} and the tree differ. Missing from the {what} (add them to [tool.setuptools.package-data] or "
        f"MANIFEST.in): {missing}; only in the {what}: {extra}; different bytes: {differ}"
    )


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) built from a clean copy of the tree; the wheel from the unpacked sdist."""
    work = tmp_path_factory.mktemp("dists")
    source = work / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    out = work / "dist"
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=work)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def wheel_files(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def sdist_files(sdist: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is not None:
                found[member.name.split("/", 1)[1]] = handle.read()
    return found


@pytest.mark.e2e
def test_the_wheel_holds_the_packages_and_their_data_byte_for_byte(dists: tuple[Path, Path]) -> None:
    files = wheel_files(dists[1])
    tops = {name.split("/")[0] for name in files}
    assert tops - set(PACKAGES) == {"askara_mock-0.1.0.dist-info"}, f"unexpected top-level entries: {tops}"
    data = tree_files(*DATA)
    assert any(name.endswith(".schema.json") for name in data) and any(name.endswith(".yaml") for name in data)
    assert "mock_server/control/ui.html" in data
    _compare(_under(files, PACKAGES), tree_files(*PACKAGES), "wheel")


@pytest.mark.e2e
def test_the_wheel_declares_the_command_and_the_plugins(dists: tuple[Path, Path]) -> None:
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel_files(dists[1])["askara_mock-0.1.0.dist-info/entry_points.txt"].decode())
    assert dict(entry_points["console_scripts"]) == {"askara-mock": "mock_server.cli:main"}
    assert dict(entry_points["askara_mock.commands"]) == {"conformance": "conformance.cli:register"}
    assert dict(entry_points["pytest11"]) == {"askara_mock": "conformance.plugin"}


@pytest.mark.e2e
def test_the_sdist_holds_the_source_byte_for_byte(dists: tuple[Path, Path]) -> None:
    files = sdist_files(dists[0])
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        assert files.get(name) == (ROOT / name).read_bytes(), name
    _compare(_under(files, PACKAGES + SDIST_ONLY), tree_files(*PACKAGES, *SDIST_ONLY), "sdist")


@pytest.mark.e2e
def test_a_wheel_without_its_scenarios_judges_nothing_and_says_so(dists: tuple[Path, Path], tmp_path: Path) -> None:
    """A build that leaves the scenarios out must not pass a run (it printed "PASSED: 0 passed", exit 0)."""
    site = tmp_path / "site"
    with zipfile.ZipFile(dists[1]) as archive:
        for name in archive.namelist():
            if not name.startswith("conformance/scenarios/"):
                archive.extract(name, site)
    port = free_port()
    start = f"{sys.executable} {ROOT / 'tests' / 'integrations' / 'reference.py'} --port {port} --data-dir {tmp_path}"
    command = [sys.executable, "-c", "from mock_server.cli import main; main()", "conformance", "run",
               "--target-url", f"http://127.0.0.1:{port}/webhook", "--start", start, "--timeout", "30"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "400"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "NOT A PASS, nothing was judged: no scenario was given and the standard suite is empty" in done.stdout
    assert re.search(r"^NOTHING JUDGED: 0 passed, 0 failed, \d+ skipped", done.stdout, re.M), done.stdout
    assert str(site) in subprocess.run(
        [sys.executable, "-c", "import conformance; print(conformance.__file__)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    ).stdout, "the run must have used the wheel's copy of the package"


@pytest.mark.parametrize(("link", "target"), sorted(LINKS.items()))
def test_top_level_links_resolve_to_the_package_folders(link: str, target: str) -> None:
    path = ROOT / link
    assert path.is_symlink(), f"{link} must be a link to {target} (the package folder is what ships), not a copy"
    assert os.readlink(path) == target, "a relative link, so it resolves in any clone"
    assert path.resolve() == (ROOT / target).resolve()
    assert sorted(p.name for p in path.iterdir()) == sorted(p.name for p in (ROOT / target).iterdir())


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and (
        (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
    )


def _imported_modules(tree: ast.Module) -> Iterator[str]:
    """Top-level names of the absolute imports that run (``if TYPE_CHECKING:`` bodies are types only)."""
    types_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            types_only.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    for node in ast.walk(tree):
        if id(node) in types_only:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def third_party_imports() -> dict[str, set[str]]:
    """Distribution (normalised name) -> the package files importing it at run time."""
    providers = packages_distributions()
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
                if module in sys.stdlib_module_names or module in PACKAGES:
                    continue
                if module not in providers and OPTIONAL_IMPORTS.get(relative, ("",))[0] == module:
                    found.setdefault(module, set()).add(relative)  # an extra's distribution, maybe not installed
                    continue
                assert module in providers, f"{relative} imports {module}, which no installed distribution provides"
                for dist in providers[module]:
                    found.setdefault(_normal(dist), set()).add(relative)
    return found


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project


def test_every_runtime_import_is_a_declared_dependency() -> None:
    project = _project()
    runtime = {_requirement_name(spec) for spec in project["dependencies"]}
    extras = {name: {_requirement_name(s) for s in specs} for name, specs in project["optional-dependencies"].items()}
    undeclared = []
    for dist, importers in sorted(third_party_imports().items()):
        optional = {OPTIONAL_IMPORTS.get(importer) for importer in importers}
        entry = optional.pop() if len(optional) == 1 else None
        if dist in runtime or (entry is not None and entry[0] == dist and dist in extras.get(entry[1], set())):
            continue
        undeclared.append(f"{dist} (imported by {', '.join(sorted(importers))})")
    assert not undeclared, f"imported at run time but not in [project.dependencies]: {undeclared}"


def test_every_runtime_dependency_is_used_at_run_time() -> None:
    """Test-only tools (pytest, ruff, ...) belong in an extra: a dependency nothing imports is one.

    Imports by the files of OPTIONAL_IMPORTS do not count: pytest, imported by the plugin only
    pytest loads, is no reason to install pytest with the tool.
    """
    imported = {dist for dist, importers in third_party_imports().items() if importers - set(OPTIONAL_IMPORTS)}
    declared = [_requirement_name(spec) for spec in _project()["dependencies"]]
    unused = [dist for dist in declared if dist not in imported and dist not in USED_WITHOUT_IMPORT]
    assert not unused, f"in [project.dependencies] but never imported by {PACKAGES}: {unused}"
