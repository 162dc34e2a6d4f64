"""A rebuild while serving: the server swaps to a new build only when it is complete and valid, the
pages show the new build, and the old build's page data is let go (nothing grows swap after swap)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

from server import create_app
from tests.conftest import MINI
from tests.serving import serving

SWAPS = 20
KG = Path(sys.executable).with_name("kg")


def kg(arguments: list[str]) -> int:
    """``kg`` in a process of its own, as an operator runs it beside the server (a build forks
    workers, which must not inherit the serving threads of this test process)."""
    return subprocess.run([str(KG), *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=300).returncode

MEASURE_COUNT = "PREFIX kik: <https://w3id.org/kik/ontology#> SELECT (COUNT(?m) AS ?n) WHERE { ?m a kik:Measure }"


def count_measures(base: str) -> int:
    response = requests.get(f"{base}sparql", params={"query": MEASURE_COUNT},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30)
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def search_page(base: str, words: str) -> str:
    """/massnahmen searched for ``words`` (the list is paged; the search finds a measure on any page)."""
    response = requests.get(f"{base}massnahmen", params={"q": words}, timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.text


def build_id(base: str) -> str:
    return requests.get(f"{base}health", timeout=10).json()["build"]


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
        assert "/massnahme/neu\"" not in search_page(base, "Neu")

        # a new measure → a new build → served without restart
        table = sources / "massnahmen.csv"
        row = table.read_text(encoding="utf-8").splitlines()[-1].replace("ohne-profil,Ohne Profil", "neu,Neu", 1)
        table.write_text(table.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")
        assert kg(["build", str(sources), "--dist", str(dist), "--quiet"]) == 0
        assert wait_for(lambda: requests.get(f"{base}health", timeout=10).json()["build"] != first)
        assert count_measures(base) == 4  # the same query text: the old build's cached answer is gone
        page = search_page(base, "Neu")  # the pages' memo of the old build must not answer either
        assert "/massnahme/neu\"" in page and "Neu (fiktiv)" in page
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


def test_twenty_swaps_keep_one_build_of_page_data(tmp_path: Path) -> None:
    """Each swap replaces the page memo's entries: after 20 swaps it holds one build's entries, as
    many as after the first, and every page shows the build it was asked after."""
    sources = tmp_path / "mini"
    shutil.copytree(MINI, sources)
    table = sources / "massnahmen.csv"
    original = table.read_text(encoding="utf-8")
    assert "Lotsen (fiktiv)" in original
    dist = tmp_path / "dist"
    assert kg(["build", str(sources), "--dist", str(dist), "--quiet"]) == 0
    app = create_app({"KIK_DIST": str(dist), "KIK_QUERY_TIMEOUT": 5.0, "KIK_MAX_CONCURRENT_QUERIES": 1})
    sizes = []
    with serving(app) as base:
        for swap in range(1, SWAPS + 1):
            before = build_id(base)
            title = f"Lotsen Runde{swap} (fiktiv)"
            table.write_text(original.replace("Lotsen (fiktiv)", title, 1), encoding="utf-8")
            assert kg(["build", str(sources), "--dist", str(dist), "--quiet"]) == 0
            assert wait_for(lambda: build_id(base) != before), f"swap {swap} was not picked up"
            for path in ("", "massnahmen", "raster", "vergleich"):
                assert requests.get(base + path, timeout=30).status_code == 200, path
            assert title in search_page(base, f"Runde{swap}"), f"swap {swap}: /massnahmen shows the old build"
            if swap > 1:
                assert f"Runde{swap - 1} " not in search_page(base, "Lotsen")
            cache = app.extensions["kik.pages.cache"]
            assert len({key[:2] for key in cache}) == 1, f"swap {swap}: entries of several builds are kept"
            assert {key[1] for key in cache} == {build_id(base)}
            locks = app.extensions["kik.pages.locks"]
            assert {key[1] for key in locks} == {build_id(base)}, f"swap {swap}: locks of older builds are kept"
            sizes.append(len(cache))
    assert sizes == [sizes[0]] * SWAPS, sizes
