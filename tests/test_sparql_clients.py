"""What researchers' tools see: SPARQLWrapper, rdflib's SPARQLStore and raw (curl-style) requests."""

from __future__ import annotations

import io

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from rdflib.query import Result
from SPARQLWrapper import CSV, GET, JSON, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

KIK = "https://w3id.org/kik/ontology#"
MEASURE = URIRef("https://w3id.org/kik/fiktiv/musterstadt/massnahme/kita-sprachbruecke")
TITLE = Literal("Sprachbrücke in Kindertagesstätten (fiktiv)", lang="de")
SELECT = f"""PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?title WHERE {{ <{MEASURE}> dct:title ?title FILTER(lang(?title) = "de") }}"""
CONSTRUCT = f"CONSTRUCT {{ <{MEASURE}> ?p ?o }} WHERE {{ <{MEASURE}> ?p ?o }}"


@pytest.fixture(scope="module")
def url(live_server) -> str:
    return live_server + "sparql"


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("return_format, parse_as", [(JSON, "json"), (XML, "xml"), (CSV, "csv"), (TSV, "tsv")])
def test_sparqlwrapper_select_in_every_format(url, method, return_format, parse_as):
    client = SPARQLWrapper(url)
    client.setMethod(method)
    client.setQuery(SELECT)
    client.setReturnFormat(return_format)
    raw = client.query().response.read()
    result = Result.parse(io.BytesIO(raw), format=parse_as)
    values = [row[0] for row in result]
    if parse_as == "csv":  # CSV has no language tags
        assert values == [Literal(str(TITLE))]
    else:
        assert values == [TITLE]


def test_sparqlwrapper_json_convert_and_ask(url):
    client = SPARQLWrapper(url)
    client.setQuery(SELECT)
    client.setReturnFormat(JSON)
    bindings = client.queryAndConvert()["results"]["bindings"]
    assert bindings == [{"title": {"type": "literal", "xml:lang": "de", "value": str(TITLE)}}]
    client.setQuery(f"ASK {{ <{MEASURE}> a <{KIK}Measure> }}")
    assert client.queryAndConvert()["boolean"] is True


@pytest.mark.parametrize("return_format", [TURTLE, RDFXML, N3, JSON])
def test_sparqlwrapper_construct(url, return_format):
    client = SPARQLWrapper(url)
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(return_format)
    response = client.query()
    content_type = response.response.headers["Content-Type"].split(";")[0]
    rdflib_format = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/ld+json": "json-ld",
                     "application/n-triples": "nt"}[content_type]
    graph = Graph().parse(data=response.response.read(), format=rdflib_format)
    assert (MEASURE, RDF.type, URIRef(KIK + "Measure")) in graph
    assert (MEASURE, URIRef("http://purl.org/dc/terms/title"), TITLE) in graph


@pytest.mark.parametrize("returnFormat", ["json", "xml", "csv"])
def test_rdflib_sparqlstore(url, returnFormat):
    store = SPARQLStore(url, returnFormat=returnFormat)
    graph = Graph(store=store)
    rows = list(graph.query(SELECT))
    expected = Literal(str(TITLE)) if returnFormat == "csv" else TITLE
    assert [row[0] for row in rows] == [expected]
    assert graph.query(f"ASK {{ <{MEASURE}> a <{KIK}Measure> }}").askAnswer is True
    triples = set(graph.triples((MEASURE, RDF.type, None)))
    assert (MEASURE, RDF.type, URIRef(KIK + "Measure")) in triples
    constructed = graph.query(CONSTRUCT).graph
    assert (MEASURE, URIRef("http://purl.org/dc/terms/title"), TITLE) in constructed


def test_dependency_rdflib_sparqlstore_refuses_writes_itself(url):
    """Guards a dependency: rdflib's SPARQLStore refuses ``add`` on the client side, before any
    request (researchers' scripts rely on it). The server's own refusal of updates, with their
    exact effect, is tested in tests/test_sparql_protocol.py."""
    graph = Graph(store=SPARQLStore(url))
    with pytest.raises(TypeError):
        graph.add((MEASURE, RDF.type, URIRef(KIK + "Measure")))


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_curl_style_raw_requests(url, accept):
    """As `curl -H 'Accept: …' --data-urlencode query@file.rq URL` sends it."""
    response = requests.post(url, data={"query": SELECT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == accept
    assert str(TITLE) in response.content.decode("utf-8")
    direct = requests.post(url, data=SELECT.encode("utf-8"),
                           headers={"Accept": accept, "Content-Type": "application/sparql-query"})
    assert direct.content == response.content
