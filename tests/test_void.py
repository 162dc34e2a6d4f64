"""VoID at /.well-known/void: counts agree with the build, dumps and endpoint resolve, Wikidata linksets."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

VOID = Namespace("http://rdfs.org/ns/void#")
WIKIDATA = "http://www.wikidata.org/entity/"


@pytest.fixture(scope="module")
def void(app) -> Graph:
    response = app.test_client().get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    return Graph().parse(data=response.data, format="turtle")


@pytest.fixture(scope="module")
def data(dist_dir) -> Graph:
    return Graph().parse(dist_dir / "kg.nt", format="nt")


def dataset_of(void: Graph) -> URIRef:
    return next(void.objects(None, URIRef("http://xmlns.com/foaf/0.1/primaryTopic")))


def test_counts_match_the_build(void, dist_dir, data):
    dataset = dataset_of(void)
    stats = json.loads((dist_dir / "stats.json").read_text(encoding="utf-8"))
    assert int(void.value(dataset, VOID.triples)) == stats["triples"] == len(data)
    subjects = {s for s in data.subjects() if isinstance(s, URIRef) and str(s).startswith("https://w3id.org/kik/")}
    assert int(void.value(dataset, VOID.entities)) == len(subjects)
    partitions = {void.value(p, VOID["class"]): int(void.value(p, VOID.entities)) for p in void.objects(dataset, VOID.classPartition)}
    kik_measure = URIRef("https://w3id.org/kik/ontology#Measure")
    assert partitions[kik_measure] == len(set(data.subjects(RDF.type, kik_measure)))
    assert sum(partitions.values()) == len(set(data.subject_objects(RDF.type)))


def test_endpoint_dumps_and_vocabularies(void, app):
    dataset = dataset_of(void)
    assert str(void.value(dataset, VOID.sparqlEndpoint)).endswith("/sparql")
    dumps = list(void.objects(dataset, VOID.dataDump))
    assert len(dumps) >= 6
    client = app.test_client()
    for dump in dumps:
        assert client.head("/" + str(dump).split("/", 3)[3]).status_code == 200, dump
    vocabularies = {str(v) for v in void.objects(dataset, VOID.vocabulary)}
    assert {"https://w3id.org/kik/ontology#", "http://www.w3.org/2004/02/skos/core#", "http://www.w3.org/ns/prov#"} <= vocabularies


def test_linksets_to_wikidata_are_counted(void, data):
    dataset = dataset_of(void)
    expected: dict[URIRef, int] = {}
    for s, p, o in data:
        if isinstance(o, URIRef) and str(o).startswith(WIKIDATA) and str(s).startswith("https://w3id.org/kik/") and p != RDF.type:
            expected[p] = expected.get(p, 0) + 1
    assert expected, "the Hamm data links to Wikidata"
    found = {}
    for linkset in void.subjects(RDF.type, VOID.Linkset):
        target = void.value(linkset, VOID.objectsTarget)
        assert void.value(linkset, VOID.subjectsTarget) == dataset
        if void.value(target, VOID.uriSpace) == Literal(WIKIDATA):
            found[void.value(linkset, VOID.linkPredicate)] = int(void.value(linkset, VOID.triples))
    assert found == expected
    assert URIRef("http://purl.org/dc/terms/spatial") in found


def test_void_page(app):
    page = app.test_client().get("/.well-known/void", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Wikidata" in page.get_data(as_text=True)
