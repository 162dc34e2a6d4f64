"""The layers of ``server/``: store at the bottom, then publishing, then sparql and pages; nothing imports
the pages but the app factory. Read from the code's own import statements (also those inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[1] / "server"
# package → the server packages it may import (besides itself and the leaf modules config/errors)
ALLOWED = {
    "store": set(),
    "publishing": {"store"},
    "sparql": {"store", "publishing"},
    "pages": {"store", "publishing"},
}
LEAVES = {"config", "errors"}


def server_imports(path: Path) -> set[str]:
    """The first part after ``server.`` of every import in one file (``from server import x`` gives x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[0] == "server":
                found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names
                      if alias.name.startswith("server.")}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_lower_layers(package):
    wrong = {}
    for path in sorted((SERVER / package).rglob("*.py")):
        bad = server_imports(path) - ALLOWED[package] - LEAVES - {package}
        if bad:
            wrong[str(path.relative_to(SERVER))] = sorted(bad)
    assert not wrong, f"imports above its layer: {wrong}"


def test_at_most_six_loose_modules():
    loose = sorted(p.name for p in SERVER.glob("*.py"))
    assert len(loose) <= 6, loose


def test_every_package_says_its_job():
    for package in ALLOWED:
        doc = ast.get_docstring(ast.parse((SERVER / package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "Entry points" in doc, package


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from server.pages import views\n    import server.sparql.endpoint\n")
    assert server_imports(module) == {"pages", "sparql"}
