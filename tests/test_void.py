"""VoID at /.well-known/void: counts agree with the build, dumps and endpoint resolve, Wikidata linksets;
the ontology, shapes and validation report are named graphs of the endpoint, outside its default graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

REPOSITORY = Path(__file__).resolve().parents[1]
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


ONTOLOGY = "https://w3id.org/kik/ontology"
OWL_CLASS = URIRef("http://www.w3.org/2002/07/owl#Class")


def _count(client, query: str) -> int:
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(response.get_data(as_text=True).splitlines()[1])


def test_ontology_shapes_and_report_are_named_graphs_outside_the_default_graph(app, dist_dir, data):
    """A researcher finds the ontology's classes in the graph named by the ontology IRI; counting the
    default graph still counts the data only."""
    ontology = Graph().parse(REPOSITORY / "ontology" / "kik.ttl", format="turtle")
    classes = {c for c in ontology.subjects(RDF.type, OWL_CLASS) if isinstance(c, URIRef)}
    assert classes and (URIRef(ONTOLOGY), RDF.type, URIRef("http://www.w3.org/2002/07/owl#Ontology")) in ontology
    client = app.test_client()
    found = _count(client, f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ GRAPH <{ONTOLOGY}> {{ ?c a <{OWL_CLASS}> FILTER(isIRI(?c)) }} }}")
    assert found == len(classes)
    assert _count(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == len(data)
    expected = {ONTOLOGY: len(ontology),
                "https://w3id.org/kik/shapes": len(Graph().parse(dist_dir / "shapes.ttl", format="turtle")),
                "https://w3id.org/kik/validation": len(Graph().parse(dist_dir / "validation.ttl", format="turtle"))}
    for name, triples in expected.items():
        assert _count(client, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}") == triples, name
    void = Graph().parse(data=client.get("/.well-known/void.ttl").data, format="turtle")
    sd = URIRef("http://www.w3.org/ns/sparql-service-description#name")
    listed = {str(void.value(node, sd)): int(void.value(node, VOID.triples)) for node in void.subjects(sd, None)}
    assert listed == expected
    assert not {str(s) for s in void.objects(dataset_of(void), VOID.subset)} & {str(n) for n in void.subjects(sd, None)}


def test_example_query_lists_the_ontologys_terms_with_labels(app):
    from server.sparql.examples import DEFAULT_DIR, load_examples

    example = next(e for e in load_examples(DEFAULT_DIR) if "ontologie" in e.name)
    ontology = Graph().parse(REPOSITORY / "ontology" / "kik.ttl", format="turtle")
    labelled = {(str(s), str(label)) for s in ontology.subjects(RDF.type, OWL_CLASS)
                for label in ontology.objects(s, RDFS.label) if getattr(label, "language", None) == "de"}
    response = app.test_client().post("/sparql", data={"query": example.text},
                                      headers={"Accept": "application/sparql-results+json"})
    rows = response.get_json()["results"]["bindings"]
    found = {(r["begriff"]["value"], r["bezeichnung"]["value"]) for r in rows
             if r["art"]["value"] == str(OWL_CLASS) and "bezeichnung" in r}
    assert found == labelled
    assert {r["version"]["value"] for r in rows} == {str(ontology.value(URIRef(ONTOLOGY), URIRef("http://www.w3.org/2002/07/owl#versionIRI")))}


def test_void_answers_are_kept_per_build_and_bounded(app, monkeypatch) -> None:
    """VoID is made once per build and format, kept with the rendered pages (``page_cache``): what is
    sent from memory equals what is made afresh, requests with other parameters are not kept, the
    cache's byte bound holds, a new build starts afresh."""
    from server.publishing import page_cache

    def fresh(limit: int = 32_000_000) -> page_cache.PageCache:
        cache = page_cache.PageCache(limit)
        monkeypatch.setitem(app.extensions, page_cache.EXTENSION, cache)
        return cache

    client = app.test_client()
    cache = fresh()
    documents = lambda: [key for key in cache._pages if key[0] == "document"]  # noqa: E731
    turtle = {"Accept": "text/turtle"}
    first = client.get("/.well-known/void", headers=turtle)
    assert first.status_code == 200 and len(documents()) == 1
    assert client.get("/.well-known/void", headers=turtle).data == first.data
    cache = fresh()
    assert client.get("/.well-known/void", headers=turtle).data == first.data, "kept bytes differ from fresh ones"
    assert client.get("/.well-known/void?x=1", headers=turtle).status_code == 200
    assert len(documents()) == 1, "a request with another parameter was kept"
    kinds = ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml", "text/html")
    for accept in kinds:
        assert client.get("/.well-known/void", headers={"Accept": accept}).status_code == 200
    assert len(documents()) == len(kinds), "each format is kept on its own"
    cache = fresh(2 * max(page.size for page in cache._pages.values()))
    for accept in kinds:
        assert client.get("/.well-known/void", headers={"Accept": accept}).status_code == 200
    assert cache.size <= cache.limit and len(documents()) < len(kinds)
    store = app.extensions["kik.store"]
    monkeypatch.setitem(store.build, "build", "a-newer-build")
    assert client.get("/.well-known/void", headers=turtle).status_code == 200
    assert cache.build[1] == "a-newer-build" and len(cache) == 1, "answers of the older build are kept"
