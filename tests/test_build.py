"""`kg build`: sources → dist/ with every dump, checksums and manifest, swapped in atomically."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from rdflib import Dataset, Graph

from kg.cli import main as kg
from kg.measures import read_table
from tests.conftest import MINI, REPOSITORY

DUMPS = {"kg.ttl": "turtle", "kg.nt": "nt", "kg.rdf": "xml", "kg.jsonld": "json-ld", "kg.trig": "trig", "kg.nq": "nquads"}


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    return folder


def build(data: Path, dist: Path, *extra: str) -> int:
    return kg(["build", str(data), "--dist", str(dist), "--quiet", *extra])


def test_build_writes_every_dump_with_the_same_triples(mini: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    assert build(mini, dist) == 0
    assert dist.is_symlink()
    manifest = json.loads((dist / "build.json").read_text())
    counts = set()
    for name, rdf_format in DUMPS.items():
        graph = Dataset() if rdf_format in ("trig", "nquads") else Graph()
        graph.parse(dist / name, format=rdf_format)
        triples = {(s, p, o) for s, p, o, _ in graph.quads()} if isinstance(graph, Dataset) else set(graph)
        counts.add(len(triples))
        with gzip.open(dist / f"{name}.gz", "rb") as compressed:
            assert compressed.read() == (dist / name).read_bytes()
    assert counts == {manifest["triples"]}
    assert manifest["graphs"]["https://w3id.org/kik/fiktiv/test-mini/"] > 0


def test_checksums_match_files(mini: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    assert build(mini, dist) == 0
    lines = (dist / "SHA256SUMS").read_text().splitlines()
    assert len(lines) >= 12
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest
    manifest = json.loads((dist / "build.json").read_text())
    assert manifest["files"]["kg.ttl"]["sha256"] == hashlib.sha256((dist / "kg.ttl").read_bytes()).hexdigest()


def test_same_sources_give_byte_identical_dumps(mini: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "dist", tmp_path / "b" / "dist"
    assert build(mini, first) == 0
    assert build(mini, second) == 0
    for name in [*DUMPS, *(f"{n}.gz" for n in DUMPS)]:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_sources_in_another_folder_give_byte_identical_dumps(tmp_path: Path) -> None:
    """Blank node ids come from the dataset id and file name, not from where a checkout lies."""
    musterstadt = REPOSITORY / "data" / "musterstadt"
    assert "[" in "".join(p.read_text(encoding="utf-8") for p in musterstadt.glob("*.ttl"))  # it has blank nodes
    dists = []
    for place in ("here", "there/deeper"):
        copy = tmp_path / place / "musterstadt"
        shutil.copytree(musterstadt, copy)
        dists.append(tmp_path / place / "dist")
        assert build(copy, dists[-1]) == 0
    for name in DUMPS:
        assert (dists[0] / name).read_bytes() == (dists[1] / name).read_bytes(), name


def test_jsonld_uses_our_readable_context(mini: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    assert build(mini, dist) == 0
    document = json.loads((dist / "kg.jsonld").read_text())
    assert "@context" in document
    assert (dist / "context.jsonld").is_file()


def test_rebuild_swaps_and_keeps_the_previous_build(mini: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    assert build(mini, dist) == 0
    first = dist.resolve()
    assert build(mini, dist) == 0
    assert dist.resolve() != first
    assert first.is_dir(), "the previous good build stays until later builds replace it"
    assert not list(dist.parent.glob(".kg-builds/*.partial"))


def test_measures_become_triples_with_profile_actors_and_period(mini: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    assert build(mini, dist) == 0
    graph = Graph().parse(dist / "kg.ttl")
    result = graph.query(
        """PREFIX kik: <https://w3id.org/kik/ontology#>
        SELECT (COUNT(?c) AS ?n) WHERE { <https://w3id.org/kik/fiktiv/test-mini/massnahme/sprachcafe> kik:addressesChallenge ?c }"""
    )
    assert int(next(iter(result))[0]) == 3
    ask = graph.query(
        """PREFIX prov: <http://www.w3.org/ns/prov#>
        ASK { <https://w3id.org/kik/fiktiv/test-mini/massnahme/sprachcafe> prov:qualifiedAttribution [
              prov:agent <https://w3id.org/kik/fiktiv/test-mini/akteur/amt> ;
              prov:hadRole <https://w3id.org/kik/vocab/rolle/traeger> ] }"""
    )
    assert ask.askAnswer
    unknown = graph.query(
        """PREFIX kik: <https://w3id.org/kik/ontology#>
        ASK { <https://w3id.org/kik/fiktiv/test-mini/massnahme/ohne-profil> kik:addressesChallenge ?c }"""
    )
    assert not unknown.askAnswer, "an unknown profile stays unasserted"


def test_stats_prints_the_completeness_report(mini: Path, tmp_path: Path, capsys) -> None:
    dist = tmp_path / "dist"
    assert build(mini, dist) == 0
    capsys.readouterr()
    assert kg(["stats", "--dist", str(dist)]) == 0
    out = capsys.readouterr().out
    assert "3 von 3 Maßnahmen des Konzepts erfasst" in out
    assert "Profile bekannt für 2 von 3 erfassten Maßnahmen" in out
    assert kg(["stats", "--dist", str(dist), "--lang", "en", "--format", "json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["completeness"][0]["measures"] == {"recorded": 3, "declared": 3}


def test_build_reports_progress(mini: Path, tmp_path: Path, capsys) -> None:
    assert kg(["build", str(mini), "--dist", str(tmp_path / "dist")]) == 0
    err = capsys.readouterr().err
    assert "[1/6]" in err and "[6/6]" in err


def test_template_is_a_valid_empty_table() -> None:
    header, rows = read_table(REPOSITORY / "data" / "vorlage" / "massnahmen.csv", 18)
    assert rows == []
    assert header[:2] == ["id", "titel"] and "H18" in header


def test_validate_exit_codes(mini: Path, tmp_path: Path, capsys) -> None:
    dist = tmp_path / "dist"
    assert build(mini, dist) == 0
    capsys.readouterr()
    assert kg(["validate", "--dist", str(dist)]) == 0
    assert capsys.readouterr().out.strip()
    assert kg(["validate", "--dist", str(dist), "--format", "json", "--lang", "en"]) == 0
    json.loads(capsys.readouterr().out)


def test_shape_violation_stops_the_build_and_keeps_dist(mini: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    assert build(mini, dist) == 0
    before = dist.resolve()
    struktur = mini / "struktur.ttl"
    # a challenge in a cell outside the 3×6 grid is a structural violation
    struktur.write_text(struktur.read_text().replace('kik:gridIndex 18 ', 'kik:gridIndex 19 '), encoding="utf-8")
    assert build(mini, dist) == 1
    assert dist.resolve() == before
