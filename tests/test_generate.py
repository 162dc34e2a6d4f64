"""The generator of fictional municipalities: deterministic, complete, consistent and fictional."""

from __future__ import annotations

import csv
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDFS, SKOS

from kg.generate import CSV_HEADER, generate_municipalities, main
from kg.namespace import FICTIONAL_BASE, KIK, QB

ROOT = Path(__file__).resolve().parent.parent
ACTOR_CLASSES = {KIK.Municipality, KIK.AdministrativeUnit, KIK.CouncilBody,
                 KIK.CivilSocietyOrganisation, KIK.PublicAuthority, KIK.Programme}


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def load(folder: Path) -> tuple[dict, Graph, list[dict[str, str]]]:
    meta = tomllib.loads((folder / "datensatz.toml").read_text(encoding="utf-8"))
    graph = Graph()
    for path in sorted(folder.glob("*.ttl")):
        graph.parse(path, format="turtle")
    with open(folder / "massnahmen.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == CSV_HEADER
        rows = list(reader)
    return meta, graph, rows


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    return generate_municipalities(4, tmp_path_factory.mktemp("gen"), seed=7)


def test_folders_and_metadata(generated):
    assert [p.name for p in generated] == ["gen-0001", "gen-0002", "gen-0003", "gen-0004"]
    bases = set()
    for folder in generated:
        meta, graph, _ = load(folder)
        assert meta["id"] == folder.name
        assert meta["base"] == f"{FICTIONAL_BASE}{folder.name}/"
        assert meta["fictional"] is True
        assert (URIRef(meta["concept"]), RDF.type, KIK.IntegrationConcept) in graph
        bases.add(meta["base"])
    assert len(bases) == 4


def test_everything_is_fictional_and_sourced(generated):
    for folder in generated:
        meta, graph, rows = load(folder)
        source = URIRef(meta["base"] + "quelle/erfunden")
        assert (source, RDF.type, KIK.Source) in graph
        subjects = {s for s in graph.subjects() if isinstance(s, URIRef)}
        assert all(str(s).startswith(meta["base"]) for s in subjects)
        for s in subjects:
            assert (s, KIK.fictional, Literal(True)) in graph, s
            assert (s, DCTERMS.source, source) in graph, s
        for s, p, o in graph:
            if p in (RDFS.label, SKOS.prefLabel, DCTERMS.title):
                assert ("(fiktiv)" if o.language == "de" else "(fictional)") in str(o), (s, o)
        assert all(r["quelle"] == str(source) for r in rows)
        assert all(r["titel"].endswith("(fiktiv)") and r["titel_en"].endswith("(fictional)") for r in rows)


def test_structure_like_musterstadt(generated):
    for folder in generated:
        meta, graph, rows = load(folder)
        concept = URIRef(meta["concept"])
        counts = [int(graph.value(concept, p)) for p in (
            KIK.declaredGoalCount, KIK.declaredActionFieldCount, KIK.declaredChallengeCount,
            KIK.declaredMeasureCount)]
        assert counts == [6, 18, 18, 48]
        assert graph.value(concept, PROV.wasRevisionOf) is not None, "the concept has a predecessor"
        goals = set(graph.subjects(RDF.type, KIK.StrategicGoal))
        fields = set(graph.subjects(RDF.type, KIK.ActionField))
        assert (len(goals), len(fields)) == (6, 18)
        served = set()
        for field in fields:
            targets = set(graph.objects(field, KIK.servesGoal))
            assert 1 <= len(targets) <= 2 and targets <= goals
            served |= targets
        assert served == goals
        indices = sorted(int(graph.value(c, KIK.gridIndex)) for c in graph.subjects(RDF.type, KIK.Challenge))
        assert indices == list(range(1, 19))
        assert len(set(graph.subjects(QB.dataSet, URIRef(meta["base"] + "kennzahlen")))) >= 10
        assert all(graph.value(r, KIK.minAge) is not None for r in graph.subjects(RDF.type, KIK.AgeRange))


def test_measures_and_references(generated):
    for folder in generated:
        meta, graph, rows = load(folder)
        base = meta["base"]
        assert len(rows) == 48
        assert len({r["id"] for r in rows}) == 48
        concept = meta["concept"]
        for r in rows:
            marks = sum(r[f"H{i}"] == "x" for i in range(1, 19))
            assert 0 <= marks <= 8
            for n in r["handlungsfelder"].split(";"):
                assert (URIRef(f"{concept}/handlungsfeld/{n}"), RDF.type, KIK.ActionField) in graph
            for pair in r["akteure"].split(";"):
                slug, role = pair.split(":")
                assert role in {"traeger", "partner", "foerderer", "kontakt"}
                assert any((URIRef(f"{base}akteur/{slug}"), RDF.type, c) in graph for c in ACTOR_CLASSES)
            for column, path, cls in (("zielgruppen", "zielgruppe", KIK.TargetGroup),
                                      ("altersbereich", "altersbereich", KIK.AgeRange),
                                      ("finanzierung", "finanzierung", KIK.FundingSource),
                                      ("steuerungslogik", "steuerung", KIK.SteeringLogic)):
                for ident in r[column].split(";"):
                    assert (URIRef(f"{base}{path}/{ident}"), RDF.type, cls) in graph, (r["id"], column)


def test_deterministic_across_runs_and_n(tmp_path, generated):
    again = generate_municipalities(4, tmp_path / "again", seed=7)
    assert [tree_bytes(a) for a in again] == [tree_bytes(g) for g in generated]
    fewer = generate_municipalities(2, tmp_path / "fewer", seed=7)
    assert [tree_bytes(a) for a in fewer] == [tree_bytes(g) for g in generated[:2]]
    other = generate_municipalities(1, tmp_path / "other", seed=8)
    assert tree_bytes(other[0]) != tree_bytes(generated[0])


def test_command_line_is_deterministic_in_a_new_process(tmp_path, generated):
    out = tmp_path / "cli"
    result = subprocess.run([sys.executable, "-m", "kg.generate", "4", str(out), "--seed", "7"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    assert "4/4" in result.stdout
    assert [tree_bytes(out / g.name) for g in generated] == [tree_bytes(g) for g in generated]


def test_bad_arguments(tmp_path, capsys):
    with pytest.raises(ValueError, match="0 or more"):
        generate_municipalities(-1, tmp_path)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        generate_municipalities(1, not_a_folder)
    with pytest.raises(SystemExit) as exit_info:
        main(["-3", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert main(["0", str(tmp_path / "empty")]) == 0
    assert "0 fictional municipalities" in capsys.readouterr().out


def test_generated_folders_build(generated):
    from kg.build import build_dataset

    dataset = build_dataset(generated[:2])
    for folder in generated[:2]:
        meta, _, rows = load(folder)
        graph = dataset.graph(URIRef(meta["base"]))
        measures = set(graph.subjects(RDF.type, KIK.Measure))
        assert len(measures) == 48
        profiled = {m for m in measures if (m, KIK.addressesChallenge, None) in graph}
        assert len(profiled) == sum(any(r[f"H{i}"] for i in range(1, 19)) for r in rows)
