"""/sparql over real HTTP: the SPARQL 1.1 Protocol query operation, formats, negotiation, refusals."""

from __future__ import annotations

import csv
import io
import json

import pytest
import requests
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, VOID
from rdflib.query import Result

from tests.conftest import HAMM, MUSTERSTADT

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
COUNT_MEASURES = "PREFIX kik: <https://w3id.org/kik/ontology#> SELECT (COUNT(?m) AS ?n) WHERE { ?m a kik:Measure }"
MEASURE = "https://w3id.org/kik/fiktiv/musterstadt/massnahme/kita-sprachbruecke"
CONSTRUCT = f"CONSTRUCT {{ <{MEASURE}> ?p ?o }} WHERE {{ <{MEASURE}> ?p ?o }}"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _csv_measures() -> int:
    """The number of measures the sources list (rows of both massnahmen.csv, comments aside)."""
    total = 0
    for folder in (HAMM, MUSTERSTADT):
        with open(folder / "massnahmen.csv", encoding="utf-8-sig", newline="") as f:
            total += sum(1 for row in csv.DictReader(f) if not row["id"].startswith("#"))
    return total


MEASURES = _csv_measures()


@pytest.fixture(scope="module")
def url(live_server) -> str:
    return live_server + "sparql"


def _count(response) -> int:
    assert response.status_code == 200, response.text
    data = response.json()
    return int(data["results"]["bindings"][0]["n"]["value"])


def test_get_post_form_and_direct_post_give_the_same_answer(url):
    by_get = requests.get(url, params={"query": COUNT_MEASURES})
    by_form = requests.post(url, data={"query": COUNT_MEASURES})
    direct = requests.post(url, data=COUNT_MEASURES.encode(), headers={"Content-Type": "application/sparql-query"})
    assert _count(by_get) == _count(by_form) == _count(direct) == MEASURES == 48
    assert by_get.headers["Content-Type"].startswith("application/sparql-results+json")


@pytest.mark.parametrize("accept, content_type", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
])
def test_select_in_every_result_format(url, accept, content_type):
    response = requests.get(url, params={"query": COUNT_MEASURES}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == content_type
    if content_type == "text/csv":
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == ["n"] and int(rows[1][0]) == MEASURES
    else:
        fmt = {"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
               "text/tab-separated-values": "tsv"}[content_type]
        result = Result.parse(io.BytesIO(response.content), format=fmt)
        assert int(list(result)[0][0]) == MEASURES


@pytest.mark.parametrize("accept, rdflib_format", [
    ("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"), ("application/rdf+xml", "xml"),
])
def test_construct_in_every_rdf_format(url, accept, rdflib_format):
    response = requests.get(url, params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].split(";")[0] == accept
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert (URIRef(MEASURE), RDF.type, URIRef("https://w3id.org/kik/ontology#Measure")) in graph


def test_ask_as_json_and_xml(url):
    query = f"ASK {{ <{MEASURE}> ?p ?o }}"
    assert requests.get(url, params={"query": query}).json()["boolean"] is True
    xml = requests.get(url, params={"query": query}, headers={"Accept": "application/sparql-results+xml"})
    assert Result.parse(io.BytesIO(xml.content), format="xml").askAnswer is True


def test_q_values_decide(url):
    accept = "application/sparql-results+json;q=0.5, text/csv;q=0.9, application/sparql-results+xml;q=0.1"
    response = requests.get(url, params={"query": COUNT_MEASURES}, headers={"Accept": accept})
    assert response.headers["Content-Type"].startswith("text/csv")
    accept = "text/turtle;q=0.2, application/n-triples"
    response = requests.get(url, params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.headers["Content-Type"].startswith("application/n-triples")


def test_format_parameter_overrides_accept_and_names_a_file(url):
    response = requests.get(url, params={"query": COUNT_MEASURES, "format": "tsv"}, headers={"Accept": "application/sparql-results+json"})
    assert response.headers["Content-Type"].startswith("text/tab-separated-values")
    assert "result.tsv" in response.headers["Content-Disposition"]
    response = requests.get(url, params={"query": CONSTRUCT, "format": "jsonld"})
    assert response.headers["Content-Type"].startswith("application/ld+json")
    assert requests.get(url, params={"query": COUNT_MEASURES, "format": "yaml"}).status_code == 400


def test_406_when_nothing_fits(url):
    response = requests.get(url, params={"query": COUNT_MEASURES}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/csv" in response.text
    response = requests.get(url, params={"query": CONSTRUCT, "format": "csv"})
    assert response.status_code == 406
    assert "text/turtle" in response.text


def test_a_result_type_of_the_other_kind_gets_the_default_of_this_kind(url):
    """rdflib's SPARQLStore asks for result types only, also for CONSTRUCT; CSV has no boolean form."""
    graph = requests.get(url, params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert graph.status_code == 200 and graph.headers["Content-Type"].startswith("text/turtle")
    table = requests.get(url, params={"query": COUNT_MEASURES}, headers={"Accept": "application/rdf+xml"})
    assert table.headers["Content-Type"].startswith("application/sparql-results+json")
    ask = requests.get(url, params={"query": "ASK {}"}, headers={"Accept": "text/csv, application/sparql-results+xml;q=0.5"})
    assert ask.headers["Content-Type"].startswith("application/sparql-results+xml")


def test_cors_on_answers_and_preflight(url):
    response = requests.get(url, params={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept" in response.headers["Vary"]
    preflight = requests.options(url, headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code in (200, 204)
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]


def test_protocol_dataset_replaces_the_query_dataset(url):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    vocab = "https://w3id.org/kik/vocab/"
    only_vocab = _count(requests.get(url, params={"query": query, "default-graph-uri": vocab}))
    everything = _count(requests.get(url, params={"query": query}))
    assert 0 < only_vocab < everything
    from_clause = _count(requests.get(url, params={"query": f"SELECT (COUNT(*) AS ?n) FROM <{vocab}> WHERE {{ ?s ?p ?o }}"}))
    assert from_clause == only_vocab
    named = requests.get(url, params={
        "query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", "named-graph-uri": vocab})
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [vocab]


@pytest.mark.parametrize("request_kwargs", [
    {"method": "GET", "params": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
    {"method": "GET", "params": {"update": "CLEAR ALL"}},
    {"method": "POST", "data": {"update": "CLEAR ALL"}},
    {"method": "POST", "data": {"query": "LOAD <http://example.org/data.ttl>"}},
    {"method": "POST", "data": b"DROP ALL", "headers": {"Content-Type": "application/sparql-update"}},
    {"method": "POST", "data": b"DELETE WHERE { ?s ?p ?o }", "headers": {"Content-Type": "application/sparql-query"}},
    {"method": "POST", "data": b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
     "headers": {"Content-Type": "application/sparql-update"}},
    {"method": "POST", "data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
    {"method": "POST", "data": b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
     "headers": {"Content-Type": "application/sparql-query"}},
    {"method": "POST", "data": {"query": "DELETE DATA { <urn:x> <urn:y> <urn:z> } ; INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
])
def test_updates_and_load_are_refused(url, request_kwargs, dist_dir):
    """Refused, and with no effect: no triple was added and none removed (exact counts, fresh queries)."""
    response = requests.request(url=url, **request_kwargs)
    assert response.status_code == 400
    assert "read-only" in response.text
    # a comment unique to this case keeps any answer cache out of the way
    fresh = f"# after {request_kwargs!r}\n"
    ask = requests.get(url, params={"query": fresh + "ASK { <urn:a> ?p ?o }"},
                       headers={"Accept": "application/sparql-results+json"})
    assert ask.status_code == 200 and ask.json()["boolean"] is False
    triples = json.loads((dist_dir / "build.json").read_text(encoding="utf-8"))["triples"]
    count = requests.get(url, params={"query": fresh + "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    assert _count(count) == triples
    assert _count(requests.get(url, params={"query": fresh + COUNT_MEASURES})) == MEASURES


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
    "select * where { ?x ?y ?z . optional { service silent <http://example.org/sparql> { ?s ?p ?o } } }",
    "SELECT * WHERE { { SELECT ?s WHERE { SERVICE ?endpoint { ?s ?p ?o } } } }",
])
def test_service_is_refused(url, query):
    response = requests.get(url, params={"query": query})
    assert response.status_code == 400
    assert "SERVICE" in response.text


def test_service_inside_a_string_or_comment_is_no_service_call(url):
    query = 'SELECT ?x WHERE { BIND("SERVICE <http://example.org/> { }" AS ?x) } # SERVICE <http://x/> {}'
    response = requests.get(url, params={"query": query})
    assert response.status_code == 200
    assert response.json()["results"]["bindings"][0]["x"]["value"].startswith("SERVICE")


def test_syntax_error_gives_400_with_position(url):
    response = requests.get(url, params={"query": "SELECT * WHERE { ?s ?p ?o . FILTER( }"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "1:" in response.text and "syntax" in response.text.lower()


@pytest.mark.parametrize("request_kwargs, status", [
    ({"method": "PUT", "params": {"query": "ASK {}"}}, 405),
    ({"method": "GET", "params": [("query", "ASK {}"), ("query", "SELECT * {}")]}, 400),
    ({"method": "POST", "data": b"ASK {}", "headers": {"Content-Type": "text/plain"}}, 415),
    ({"method": "POST", "data": b"ASK {}"}, 415),
    ({"method": "POST", "data": "ASK {}".encode("utf-16"), "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}, 415),
    ({"method": "POST", "data": b"ASK { \xff }", "headers": {"Content-Type": "application/sparql-query"}}, 400),
    ({"method": "POST", "data": {"default-graph-uri": "urn:x"}}, 400),
    ({"method": "GET", "params": {"query": "  "}}, 400),
])
def test_bad_requests_get_4xx(url, request_kwargs, status):
    response = requests.request(url=url, **request_kwargs)
    assert response.status_code == status
    assert response.text.strip()


def test_too_large_query_gets_413(url, app):
    limit = app.config["KIK_MAX_QUERY_BYTES"]
    query = "ASK {}" + " " * limit
    assert requests.post(url, data=query.encode(), headers={"Content-Type": "application/sparql-query"}).status_code == 413
    assert requests.post(url, data={"query": query}).status_code == 413


def test_service_description_for_rdf_clients(url, app):
    response = requests.get(url, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    service = next(graph.subjects(RDF.type, SD.Service))
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.endpoint, URIRef(url)) in graph
    assert len(set(graph.objects(service, SD.resultFormat))) == 8
    build = app.extensions["kik.store"].build
    described = {
        str(graph.value(named, SD.name)): int(graph.value(graph.value(named, SD.graph), VOID.triples))
        for named in graph.subjects(RDF.type, SD.NamedGraph)
    }
    assert described == {**build["graphs"], **build["extra_graphs"]}  # data graphs; ontology, shapes, report
    assert (None, VOID.triples, Literal(build["triples"])) in graph
    as_jsonld = requests.get(url, headers={"Accept": "application/ld+json"})
    assert as_jsonld.headers["Content-Type"].startswith("application/ld+json")
    assert len(Graph().parse(data=as_jsonld.text, format="json-ld")) == len(graph)


def test_editor_for_browsers_works_without_javascript(url):
    response = requests.get(url, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert '<form id="kik-query-form" method="get" action="/sparql">' in page
    assert 'name="query"' in page and 'name="format"' in page
    assert "Maßnahmen je Herausforderung" in page
    examples = json.loads(page.split('id="kik-examples">')[1].split("</script>")[0])
    assert len(examples) >= 12
    chosen = requests.get(url, params={"example": "09-vollstaendigkeit"}, headers={"Accept": BROWSER}).text
    assert "declaredMeasureCount" in chosen.split('name="query"')[1]
