"""Runtime dependencies: every third-party module that `kg/` or `server/` imports is declared in
pyproject.toml's [project].dependencies, so `pip install .` (no extras) gives a working kg and server."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OWN = {"kg", "server"}


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Top-level module name → files importing it, for every import statement (also inside functions)."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def declared_runtime() -> set[str]:
    """Normalised distribution names of [project].dependencies (not the extras)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_normalise(re.match(r"[A-Za-z0-9._-]+", spec).group(0)) for spec in project["dependencies"]}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def undeclared(modules: dict[str, set[str]], declared: set[str]) -> dict[str, set[str]]:
    distributions = packages_distributions()
    missing = {}
    for module, files in modules.items():
        if module in OWN or module in sys.stdlib_module_names or module == "__future__":
            continue
        providers = {_normalise(d) for d in distributions.get(module, [module])}
        if not providers & declared:
            missing[module] = files
    return missing


@pytest.mark.parametrize("folder", ["kg", "server"])
def test_every_runtime_import_is_a_declared_dependency(folder):
    missing = undeclared(imported_modules(ROOT / folder), declared_runtime())
    assert not missing, ("imported at run time but not in [project].dependencies of pyproject.toml "
                         "(only an extra, or not at all): " + "; ".join(f"{m} in {sorted(f)}" for m, f in sorted(missing.items())))


def test_the_check_finds_an_undeclared_import():
    """The check can fail: `requests` (used by kg push) counts as missing once it is not declared."""
    modules = imported_modules(ROOT / "kg")
    assert "requests" in modules
    assert "requests" in undeclared(modules, declared_runtime() - {"requests"})
    assert "json" not in undeclared({"json": {"x.py"}}, set())  # the standard library needs no declaration
