"""A rebuild while serving: the server swaps to a new build only when it is complete and valid."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import requests

from kg.cli import main as kg
from server import create_app
from tests.conftest import MINI
from tests.serving import serving

MEASURE_COUNT = "PREFIX kik: <https://w3id.org/kik/ontology#> SELECT (COUNT(?m) AS ?n) WHERE { ?m a kik:Measure }"


def count_measures(base: str) -> int:
    response = requests.get(f"{base}sparql", params={"query": MEASURE_COUNT},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30)
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def wait_for(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_swap_to_new_build_and_keep_old_on_failure(tmp_path: Path) -> None:
    sources = tmp_path / "mini"
    shutil.copytree(MINI, sources)
    dist = tmp_path / "dist"
    assert kg(["build", str(sources), "--dist", str(dist), "--quiet"]) == 0
    app = create_app({"KIK_DIST": str(dist), "KIK_QUERY_TIMEOUT": 5.0, "KIK_MAX_CONCURRENT_QUERIES": 1})
    with serving(app) as base:
        first = requests.get(f"{base}health", timeout=10).json()["build"]
        assert count_measures(base) == 3

        # a new measure → a new build → served without restart
        table = sources / "massnahmen.csv"
        row = table.read_text(encoding="utf-8").splitlines()[-1].replace("ohne-profil,Ohne Profil", "neu,Neu", 1)
        table.write_text(table.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")
        assert kg(["build", str(sources), "--dist", str(dist), "--quiet"]) == 0
        assert wait_for(lambda: requests.get(f"{base}health", timeout=10).json()["build"] != first)
        assert count_measures(base) == 4  # the same query text: the old build's cached answer is gone
        second = requests.get(f"{base}health", timeout=10).json()["build"]

        # broken sources: the build fails, the served build stays
        table.write_text(table.read_text(encoding="utf-8").replace(",x,", ",ja,", 1), encoding="utf-8")
        assert kg(["build", str(sources), "--dist", str(dist), "--quiet"]) == 2
        time.sleep(1.5)
        assert requests.get(f"{base}health", timeout=10).json()["build"] == second
        assert count_measures(base) == 4

        # a published build that cannot be loaded (unreadable dump) is not served
        broken = dist.parent / ".kg-builds" / "99999999T000000000000Z"
        broken.mkdir()
        (broken / "build.json").write_text("{}", encoding="utf-8")
        link = dist.with_name(".dist.broken")
        link.symlink_to(Path(".kg-builds") / broken.name, target_is_directory=True)
        link.replace(dist)
        time.sleep(1.5)
        assert requests.get(f"{base}health", timeout=10).json()["build"] == second
        assert count_measures(base) == 4
