"""The faster build paths give what the plain rdflib paths gave: same graphs, statistics and dumps.

Reading uses Oxigraph's Turtle parser (kg.sources.parse_turtle), the JSON-LD dump is converted in
pieces (kg.jsonld), statistics index instances once (kg.stats), the build counts over a copy-free
union view (kg.build.UnionView). Each is checked here against the slower original.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from kg import jsonld
from kg.build import VOCABULARIES, UnionView, build_dataset, union_graph
from kg.export import _ox_term, oxigraph_quads, write_dumps
from kg.generate import generate_municipalities
from kg.measures import measures_graph
from kg.sources import MEASURES_FILE, parse_turtle, read_settings, turtle_files
from kg.stats import concept_completeness, statistics
from tests.conftest import REPOSITORY

DATA = [REPOSITORY / "data" / "hamm", REPOSITORY / "data" / "musterstadt"]
CONTEXT = json.loads((REPOSITORY / "ontology" / "context.jsonld").read_text(encoding="utf-8"))["@context"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("generated")
    generate_municipalities(3, out, seed=0)
    return sorted(out.glob("gen-*"))


@pytest.fixture(scope="module")
def folders(generated) -> list[Path]:
    return [*DATA, *generated]


def rdflib_parse(path: Path) -> Graph:
    graph = Graph()
    graph.parse(data=path.read_text(encoding="utf-8-sig"), format="turtle", publicID=path.resolve().as_uri())
    return graph


def test_oxigraph_reading_gives_rdflibs_triples_and_prefixes(folders) -> None:
    files = [VOCABULARIES, *(path for folder in folders for path in turtle_files(folder))]
    assert len(files) > 5
    for path in files:
        ours, theirs = parse_turtle(path), rdflib_parse(path)
        assert len(ours) == len(theirs), path
        assert isomorphic(ours, theirs), path
        assert {(s, p, o) for s, p, o in theirs if not any(isinstance(t, BNode) for t in (s, p, o))} == \
            {(s, p, o) for s, p, o in ours if not any(isinstance(t, BNode) for t in (s, p, o))}, path
        bound = dict(ours.namespaces())
        for prefix, namespace in theirs.namespaces():
            assert namespace in bound.values(), (path, prefix)


def test_blank_nodes_stay_apart_between_files_and_are_stable(tmp_path: Path) -> None:
    first, second = tmp_path / "a.ttl", tmp_path / "b.ttl"
    for path in (first, second):
        path.write_text('_:x <http://example.org/p> "1" .\n', encoding="utf-8")
    both = parse_turtle(first)
    parse_turtle(second, into=both)
    assert len(both) == 2  # one blank node per file, as with rdflib's parser
    assert set(parse_turtle(first)) == set(parse_turtle(first))  # same ids in every build


def test_dataset_has_the_triples_of_rdflibs_parser_and_the_measures_table(folders) -> None:
    dataset = build_dataset(folders)
    for folder in folders:
        settings = read_settings(folder)
        expected = Graph()
        for path in turtle_files(folder):
            expected += rdflib_parse(path)
        if (folder / MEASURES_FILE).is_file():
            expected += measures_graph(folder / MEASURES_FILE, settings, expected)
        assert isomorphic(dataset.graph(URIRef(settings.base)), expected), folder


def test_union_view_reads_as_the_union_copy(folders) -> None:
    dataset = build_dataset(folders)
    copy, view = union_graph(dataset), UnionView(dataset)
    assert len(view) == len(copy)
    assert set(view) == set(copy)
    assert statistics(view) == statistics(copy)
    with pytest.raises(TypeError):
        view.add((URIRef("http://example.org/s"), URIRef("http://example.org/p"), URIRef("http://example.org/o")))


def test_statistics_with_the_index_equal_those_without(folders) -> None:
    graph = union_graph(build_dataset(folders))
    stats = statistics(graph)
    assert len(stats["completeness"]) >= len(folders)
    for report in stats["completeness"]:
        assert report == concept_completeness(graph, URIRef(report["concept"]))  # per concept, no index


def old_oxigraph_quads(dataset: Dataset) -> list[ox.Quad]:
    """The former implementation, over rdflib's Dataset.quads."""
    quads = []
    for s, p, o, g in dataset.quads((None, None, None, None)):
        name = ox.DefaultGraph() if g is None or g == DATASET_DEFAULT_GRAPH_ID else _ox_term(g.identifier if hasattr(g, "identifier") else g)
        quads.append(ox.Quad(_ox_term(s), _ox_term(p), _ox_term(o), name))
    quads.sort(key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)))
    return quads


def test_quads_are_those_of_the_former_conversion_in_the_same_order(folders) -> None:
    dataset = build_dataset(folders)
    assert oxigraph_quads(dataset) == old_oxigraph_quads(dataset)


def normalised(document: dict) -> list[str]:
    """Node objects as sorted JSON texts, value arrays sorted (JSON-LD arrays are sets here)."""
    def canon(value):
        if isinstance(value, dict):
            return {key: canon(item) if key != "@list" else [canon(v) for v in item] for key, item in value.items()}
        if isinstance(value, list):
            return sorted((canon(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
        return value

    nodes = document.get("@graph", [document])
    return sorted(json.dumps(canon({k: v for k, v in node.items() if k != "@context"}), sort_keys=True) for node in nodes)


def test_jsonld_pieces_give_rdflibs_document(folders) -> None:
    union = union_graph(build_dataset(folders))
    triples = sorted(union, key=lambda t: tuple(str(x) for x in t))
    theirs = json.loads(union.serialize(format="json-ld", context=CONTEXT, auto_compact=True))
    whole = jsonld.document(jsonld.node_texts(triples, CONTEXT), CONTEXT)
    ours = json.loads(whole)
    assert ours["@context"] == theirs["@context"]
    assert normalised(ours) == normalised(theirs)
    # in pieces (as the forked workers make them): the same bytes, and byte-equal to json.dumps
    parts = jsonld.pieces(triples, 3)
    assert len(parts) == 3 and sum(map(len, parts)) == len(triples)
    texts = sorted((text for part in parts for text in jsonld.node_texts(part, CONTEXT)), key=lambda item: item[0])
    assert jsonld.document(texts, CONTEXT) == whole
    assert whole == json.dumps(ours, indent=2, separators=(",", ": "), sort_keys=True, ensure_ascii=False).encode("utf-8")


def test_pieces_keep_blank_node_trees_and_lists_together() -> None:
    graph = Graph()
    graph.parse(data="""
        @prefix ex: <http://example.org/> .
        ex:a ex:p [ ex:q [ ex:r "deep" ] ] ; ex:list ( ex:x ex:y ) .
        ex:b ex:p ex:a .
        ex:c ex:p "c" .
    """, format="turtle")
    triples = sorted(graph, key=lambda t: tuple(str(x) for x in t))
    for count in (1, 2, 3, 8):
        parts = jsonld.pieces(triples, count)
        a_part = next(part for part in parts if any(s == URIRef("http://example.org/a") for s, _, _ in part))
        assert all(s == URIRef("http://example.org/a") or isinstance(s, BNode) for s, _, _ in a_part
                   if not str(s).endswith(("/b", "/c")))
        assert sum(isinstance(s, BNode) for part in parts for s, _, _ in part) == \
            sum(isinstance(s, BNode) for s, _, _ in a_part)
        texts = sorted((text for part in parts for text in jsonld.node_texts(part, CONTEXT)), key=lambda item: item[0])
        assert jsonld.document(texts, CONTEXT) == jsonld.document(jsonld.node_texts(triples, CONTEXT), CONTEXT)


def test_parallel_dumps_equal_serial_dumps(folders, tmp_path: Path, monkeypatch) -> None:
    dataset = build_dataset(folders)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    serial.mkdir()
    parallel.mkdir()
    write_dumps(dataset, serial, CONTEXT, workers=1)
    monkeypatch.setattr(jsonld, "PARALLEL_MIN_TRIPLES", 1)
    write_dumps(dataset, parallel, CONTEXT, workers=2)
    for name in ("kg.jsonld", "kg.nt", "kg.nq", "kg.ttl", "kg.trig", "kg.rdf"):
        assert (serial / name).read_bytes() == (parallel / name).read_bytes(), name
    expected = {t for t in union_graph(dataset)}
    assert {t for t in Graph().parse(parallel / "kg.jsonld", format="json-ld")} == expected
