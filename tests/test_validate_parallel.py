"""Validating municipality by municipality in parallel gives the same report as validating the union."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import SKOS

from kg import validate as validation
from kg.build import build_dataset, union_graph
from kg.generate import generate_municipalities

REPOSITORY = Path(__file__).resolve().parents[1]


def _keys(report) -> set[tuple]:
    return {(r.focus_node, r.path, r.value, r.severity, r.source_shape, tuple(sorted(r.messages.items())))
            for r in report.results}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("generated")
    return [REPOSITORY / "data" / "musterstadt", *generate_municipalities(3, out, seed=7)]


@pytest.fixture()
def parallel_always(monkeypatch) -> None:
    monkeypatch.setattr(validation, "PARALLEL_MIN_TRIPLES", 0)
    monkeypatch.setattr(validation, "PARTS_PER_CHUNK", 1)


def test_parallel_report_equals_union_report(folders, parallel_always) -> None:
    dataset = build_dataset(folders)
    shapes = validation.load_shapes()
    assert validation.independent_parts(dataset) is not None
    parallel = validation.validate_dataset(dataset, shapes, workers=2)
    serial = validation.validate(union_graph(dataset), shapes)
    assert _keys(parallel) == _keys(serial)
    assert parallel.conforms_without_violations == serial.conforms_without_violations
    assert parallel.counts() == serial.counts()
    turtle = validation.format_report(parallel, fmt="turtle")
    assert turtle.count("sh:ValidationReport") == 1


def test_a_violation_in_one_municipality_is_found(folders, parallel_always) -> None:
    dataset = build_dataset(folders)
    shapes = validation.load_shapes()
    broken = next(g for g in dataset.graphs() if "gen-0002" in str(g.identifier))
    goal = next(s for s in broken.subjects(SKOS.notation, Literal("1")) if "/ziel/" in str(s))
    broken.remove((goal, SKOS.prefLabel, None))
    parallel = validation.validate_dataset(dataset, shapes, workers=2)
    serial = validation.validate(union_graph(dataset), shapes)
    assert not parallel.conforms_without_violations
    assert any(r.focus_node == goal and r.severity == "Violation" for r in parallel.results)
    assert _keys(parallel) == _keys(serial)


def test_graphs_that_describe_the_same_resource_are_validated_together(folders) -> None:
    dataset = build_dataset(folders)
    graphs = [g for g in dataset.graphs() if "gen-000" in str(g.identifier)]
    shared = URIRef(str(graphs[0].identifier) + "stadt")
    graphs[1].add((shared, SKOS.note, Literal("beschrieben in zwei Graphen (fiktiv)", lang="de")))
    assert validation.independent_parts(dataset) is None
