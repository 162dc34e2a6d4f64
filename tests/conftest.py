"""Shared fixtures: one real build of the repository's data, and a real HTTP server on loopback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import serving

REPOSITORY = Path(__file__).resolve().parents[1]
HAMM = REPOSITORY / "data" / "hamm"
MUSTERSTADT = REPOSITORY / "data" / "musterstadt"
MINI = REPOSITORY / "tests" / "fixtures" / "mini"


def kg_build(*args: str) -> int:
    """``kg build`` in a process of its own, as a user runs it: the build forks worker processes, which
    is unsafe from a test process whose server threads may hold locks at that moment."""
    return subprocess.run([sys.executable, "-m", "kg.cli", "build", *args, "--quiet"], cwd=REPOSITORY).returncode


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory) -> Path:
    """``kg build`` of Hamm and Musterstadt into a temporary dist/ (built once per test run)."""
    dist = tmp_path_factory.mktemp("build") / "dist"
    code = kg_build(str(HAMM), str(MUSTERSTADT), "--dist", str(dist))
    assert code == 0, "the repository's data must build"
    return dist


@pytest.fixture(scope="session")
def app(dist_dir):
    from server import create_app

    application = create_app({"KIK_DIST": str(dist_dir), "TESTING": True})
    return application


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The app behind a real threaded HTTP server on 127.0.0.1; yields its base URL."""
    with serving(app) as base:
        yield base


@pytest.fixture(scope="session", params=["development", "production"])
def served(request, dist_dir) -> Iterator[str]:
    """The build behind the development server (werkzeug, as ``kg serve`` runs it) and behind the
    production server (waitress, started with README.md's command); yields the base URL."""
    if request.param == "development":
        yield request.getfixturevalue("live_server")
    else:
        from tests.production import waitress

        with waitress(dist_dir) as running:
            yield running.base


@pytest.fixture(scope="session")
def generated_build(tmp_path_factory):
    """``generated_build(n)``: the dist/ of Hamm + Musterstadt + ``n`` generated municipalities (seed 0),
    built once per size and test run, so page, catalog and store tests can share a state-scale build."""
    builds: dict[int, Path] = {}

    def build(n: int) -> Path:
        if n not in builds:
            root = tmp_path_factory.mktemp(f"generated-{n}")
            from kg.generate import generate_municipalities

            folders = generate_municipalities(n, root / "data")
            dist = root / "dist"
            code = kg_build(str(HAMM), str(MUSTERSTADT), *map(str, folders), "--dist", str(dist))
            assert code == 0, f"a build of {n} generated municipalities must succeed"
            builds[n] = dist
        return builds[n]

    return build
