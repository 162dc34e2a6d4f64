"""Data safety: while the server serves a build, the sources are corrupted in every way of
tests/test_bad_input.py and rebuilt; each rebuild fails, and the served data and the dumps (bytes of
every dist file, ETags and bodies of /download, the build id, query answers) stay identical.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from tests.serving import serving as serve_app

from kg.cli import main as kg
from server import create_app
from server.store.publication import CHECK_INTERVAL
from tests.conftest import MINI
from tests.test_bad_input import MEASURES, edit_csv

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def _malformed_turtle(folder: Path) -> None:
    path = folder / "struktur.ttl"
    path.write_text(path.read_text(encoding="utf-8").replace('"Testkommune (fiktiv)"@de', '"Testkommune (fiktiv)@de', 1),
                    encoding="utf-8")


def _unknown_challenge(folder: Path) -> None:
    path = folder / "struktur.ttl"
    text = path.read_text(encoding="utf-8")
    start = text.index("t:konzept\\/2024\\/herausforderung\\/4 a")
    path.write_text(text[:start] + text[text.index("\n\n", start):], encoding="utf-8")


def _missing_column(folder: Path) -> None:
    path = folder / MEASURES
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
    keep = [i for i, name in enumerate(rows[0]) if name != "quelle"]
    path.write_text("\n".join(",".join(r[i] for i in keep) for r in rows) + "\n", encoding="utf-8")


def _latin1(folder: Path) -> None:
    path = folder / MEASURES
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "malformed turtle": _malformed_turtle,
    "grid mark in column 19 (extra cell)": lambda f: edit_csv(f, ",3\n", ",3,x\n"),
    "grid mark in column 19 (header)": lambda f: edit_csv(f, "H18,", "H18,H19,"),
    "non-mark value": lambda f: edit_csv(f, "Erfunden.,x,", "Erfunden.,ja,"),
    "duplicate measure id": lambda f: edit_csv(f, "lotsen,", "sprachcafe,"),
    "unknown actor": lambda f: edit_csv(f, "amt:partner", "jugendamt:partner"),
    "unknown challenge": _unknown_challenge,
    "unknown action field": lambda f: edit_csv(f, ",1,amt:traeger", ",9,amt:traeger"),
    "missing required column": _missing_column,
    "wrong encoding": _latin1,
    "bad date": lambda f: edit_csv(f, ",2024,", ",Sommer 2024,"),
    "sources missing": lambda f: shutil.rmtree(f),
    "empty measures table": lambda f: (f / MEASURES).write_bytes(b""),
    "truncated structure": lambda f: (f / "struktur.ttl").write_bytes((f / "struktur.ttl").read_bytes()[:500]),
}


@pytest.fixture(scope="module")
def serving(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("safety")
    dist = root / "dist"
    assert kg(["build", str(MINI), "--dist", str(dist), "--quiet"]) == 0
    app = create_app({"KIK_DIST": str(dist), "KIK_MAX_CONCURRENT_QUERIES": 1})
    with serve_app(app) as base:
        yield base, dist


def snapshot(base: str, dist: Path) -> dict:
    """Everything a client or an operator could see of the published data."""
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(dist.iterdir()) if p.is_file()}
    downloads = {}
    for name in files:
        response = requests.get(base + "download/" + name, timeout=30)
        assert response.status_code == 200, name
        downloads[name] = (response.headers.get("ETag"), hashlib.sha256(response.content).hexdigest())
    count = requests.get(base + "sparql", params={"query": COUNT}, timeout=60,
                         headers={"Accept": "application/sparql-results+json"}).json()
    resource = requests.get(base + "fiktiv/test-mini/konzept/2024", headers={"Accept": "application/n-triples"}, timeout=30)
    return {
        "link": str(dist.resolve()),
        "files": files,
        "downloads": downloads,
        "health": requests.get(base + "health", timeout=30).json(),
        "count": count["results"]["bindings"][0]["n"]["value"],
        "resource": sorted(resource.text.splitlines()),
    }


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_corrupt_sources_mid_run_change_nothing_served(serving, tmp_path, corruption) -> None:
    base, dist = serving
    before = snapshot(base, dist)
    assert before["downloads"]["kg.nq"][0].strip('"') == before["files"]["kg.nq"]
    sources = tmp_path / "mini"
    shutil.copytree(MINI, sources)
    CORRUPTIONS[corruption](sources)
    assert kg(["build", str(sources), "--dist", str(dist), "--quiet"]) != 0
    assert not list((dist.parent / ".kg-builds").glob("*.partial")), "no half-written build is left"
    time.sleep(CHECK_INTERVAL * 1.5)  # past the server's check for a new build
    assert snapshot(base, dist) == before
