"""The page data ``kg build`` writes (kg.page_summaries: pages.json, pages-measures.json).

Its content is checked against the sources read here independently (the measures tables with the csv
module, the Turtle with rdflib, the N-Triples dump line by line); the server gives the same pages
with the files, without them (an older build) and with a stale copy (another build's), and uses the
files only for the build they belong to.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from rdflib import RDF, Graph, URIRef

from kg import page_summaries
from tests.conftest import HAMM, MUSTERSTADT

KIK = "https://w3id.org/kik/ontology#"
GENERATED = 50
LABELS = [URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"), URIRef("http://purl.org/dc/terms/title"),
          URIRef("http://www.w3.org/2000/01/rdf-schema#label")]
PAGES = ["/", "/?lang=en", "/massnahmen", "/massnahmen?lang=en", "/massnahmen?q=sprach", "/raster",
         "/.well-known/void", "/kommune/fiktiv/musterstadt", "/kommune/hamm"]


def _files(dist: Path) -> tuple[dict, dict, dict]:
    build = json.loads((dist / "build.json").read_text(encoding="utf-8"))
    summary = json.loads((dist / page_summaries.SUMMARY_FILE).read_text(encoding="utf-8"))
    measures = json.loads((dist / page_summaries.MEASURES_FILE).read_text(encoding="utf-8"))
    return build, summary, measures


def _source(folder: Path) -> tuple[dict, list[dict], Graph]:
    """A data folder as its author wrote it: settings, the measures table's rows, the Turtle."""
    settings = tomllib.loads((folder / "datensatz.toml").read_text(encoding="utf-8"))
    with open(folder / "massnahmen.csv", encoding="utf-8-sig", newline="") as stream:
        rows = [row for row in csv.DictReader(stream) if not row["id"].startswith("#")]
    turtle = Graph()
    for path in sorted(folder.glob("*.ttl")):
        turtle.parse(path, format="turtle")
    return settings, rows, turtle


def _folders(generated_build) -> list[Path]:
    dist = generated_build(GENERATED)
    return [MUSTERSTADT, HAMM, *sorted((dist.parent / "data").glob("gen-*"))]


@pytest.fixture(scope="module")
def generated(generated_build) -> tuple[Path, list[Path]]:
    return generated_build(GENERATED), _folders(generated_build)


def test_files_are_listed_with_checksums(dist_dir):
    build, _, _ = _files(dist_dir)
    for name in (page_summaries.SUMMARY_FILE, page_summaries.MEASURES_FILE):
        data = (dist_dir / name).read_bytes()
        assert build["files"][name]["bytes"] == len(data)
        assert build["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()


def test_measures_are_the_tables_rows(generated):
    """Per concept: the measures, their titles, descriptions and challenges as the tables state them."""
    dist, folders = generated
    _, summary, written = _files(dist)
    data = written["measures"]
    values = data["values"]
    by_concept: dict[str, dict[str, list]] = {}
    for iri, titles, descriptions, fictional, facets in data["records"]:
        named = {name: {values[i] for i in positions} for name, positions in facets.items()}
        (concept,) = named["concepts"]
        by_concept.setdefault(concept, {})[iri] = [titles, descriptions, fictional, named.get("challenges", set())]
    counted: Counter = Counter()
    for folder in folders:
        settings, rows, turtle = _source(folder)
        challenge_at = {int(index): str(c) for c, index in turtle.subject_objects(URIRef(KIK + "gridIndex"))}
        expected = {}
        for row in rows:
            marked = {challenge_at[i] for i in range(1, 19) if row.get(f"H{i}", "").strip().lower() == "x"}
            counted.update(marked)
            titles = sorted([[row[column], lang] for column, lang in (("titel", "de"), ("titel_en", "en")) if row[column]])
            description = [[row["beschreibung"], "de"]] if row["beschreibung"] else []
            expected[settings["base"] + "massnahme/" + row["id"]] = [titles, description, settings["fictional"], marked]
        assert by_concept.get(settings["concept"], {}) == expected, folder.name
        assert summary["measures_per_concept"].get(settings["concept"], 0) == len(rows), folder.name
    assert len(data["records"]) == sum(len(measures) for measures in by_concept.values())
    assert summary["challenge_counts"] == dict(counted)


def test_municipalities_and_grids_are_the_turtles(generated):
    dist, folders = generated
    _, summary, _ = _files(dist)
    found = {entry["iri"]: entry for entry in summary["municipalities"]}
    assert len(found) == len(folders)
    for folder in folders:
        settings, _, turtle = _source(folder)
        concept = URIRef(settings["concept"])
        (municipality,) = turtle.objects(concept, URIRef(KIK + "municipality"))
        entry = found[str(municipality)]
        assert entry["graph"] == settings["base"]
        assert entry["fictional"] is settings["fictional"]
        names = {(str(label), label.language or "") for predicate in LABELS for label in turtle.objects(municipality, predicate)}
        assert names and names == {tuple(p) for p in entry["labels"]}
        versions = {str(c) for c in turtle.subjects(RDF.type, URIRef(KIK + "IntegrationConcept"))}
        assert {c["iri"] for c in entry["concepts"]} == versions
        for c in entry["concepts"]:
            revised = {str(o) for o in turtle.objects(URIRef(c["iri"]), URIRef("http://www.w3.org/ns/prov#wasRevisionOf"))}
            assert set(c["revision_of"]) == revised
            issued = [str(o) for o in turtle.objects(URIRef(c["iri"]), URIRef("http://purl.org/dc/terms/issued"))]
            assert c["issued"] == min(issued, default=None)
        grid = summary["grids"]["by_concept"][settings["concept"]]
        cells = summary["grids"]["grids"][grid]["cells"]
        assert {c: place[0] for c, place in cells.items()} == {str(c): int(i) for c, i in turtle.subject_objects(URIRef(KIK + "gridIndex"))}


def test_void_numbers_are_the_dumps(dist_dir):
    """Triples and instances per class counted in kg.nt (one statement per line) with rdflib."""
    build, summary, _ = _files(dist_dir)
    void = summary["void"]
    lines = {line for line in (dist_dir / "kg.nt").read_text(encoding="utf-8").splitlines() if line.strip()}
    assert void["triples"] == len(lines) == build["triples"]
    graph = Graph()
    graph.parse(dist_dir / "kg.nt", format="nt")
    classes = Counter(str(o) for o in set(graph.subject_objects(RDF.type)) for o in [o[1]])
    assert dict(void["classes"]) == dict(classes)
    assert void["subjects"] == len(set(graph.subjects()))


# ---------------------------------------------------------------------------------------------
# the server: with the files, without them, with a stale copy


def _copy(dist: Path, into: Path) -> Path:
    """The served build folder and its store beside it, copied: a dist of our own to change."""
    from kg.export import store_dir

    folder = dist.resolve()
    target = into / folder.name
    shutil.copytree(folder, target)
    shutil.copytree(store_dir(folder), store_dir(target))
    link = into / "dist"
    link.symlink_to(target)
    return link


def _pages(dist: Path) -> dict[str, tuple[int, bytes]]:
    from server import create_app

    app = create_app({"KIK_DIST": str(dist), "TESTING": True})
    client = app.test_client()
    return {url: (r.status_code, r.data) for url in PAGES for r in [client.get(url)]}


@pytest.fixture(scope="module")
def variants(dist_dir, generated, tmp_path_factory) -> dict[str, Path]:
    """The build as written; without the files (an older build); with another build's files (a stale
    copy: the generated build's); with the files but a build.json that does not list them."""
    found = {name: _copy(dist_dir, tmp_path_factory.mktemp(f"summaries-{name}"))
             for name in ("with", "without", "stale", "unlisted")}
    for name in (page_summaries.SUMMARY_FILE, page_summaries.MEASURES_FILE):
        (found["without"] / name).unlink()
        shutil.copyfile(generated[0] / name, found["stale"] / name)
    manifest = found["unlisted"] / "build.json"
    build = json.loads(manifest.read_text(encoding="utf-8"))
    for name in (page_summaries.SUMMARY_FILE, page_summaries.MEASURES_FILE):
        del build["files"][name]
    manifest.write_text(json.dumps(build), encoding="utf-8")
    return found


def _asked(monkeypatch) -> list[str]:
    """Record every computation of the page data from the store (the fallback)."""
    asked: list[str] = []

    def counting(name, compute):
        def run(*args):
            asked.append(name)
            return compute(*args)
        return run

    for name, compute in list(page_summaries.SECTIONS.items()):
        monkeypatch.setitem(page_summaries.SECTIONS, name, counting(name, compute))
    monkeypatch.setattr(page_summaries, "measures", counting("measures", page_summaries.measures))
    monkeypatch.setattr(page_summaries, "void_statistics", counting("void", page_summaries.void_statistics))
    return asked


def test_server_reads_the_files_of_its_build(variants, monkeypatch):
    asked = _asked(monkeypatch)
    pages = _pages(variants["with"])
    assert all(status == 200 for status, _ in pages.values()), {u: s for u, (s, _) in pages.items()}
    assert asked == []


@pytest.mark.parametrize("variant", ["without", "stale", "unlisted"])
def test_server_computes_what_the_files_do_not_give(variants, monkeypatch, variant):
    """No files, another build's files, files the manifest does not list: the pages are computed
    from the store, and they are the same as those from the build's own files."""
    expected = _pages(variants["with"])
    asked = _asked(monkeypatch)
    assert _pages(variants[variant]) == expected
    assert sorted(set(asked)) == sorted([*page_summaries.SECTIONS, "measures", "void"])
