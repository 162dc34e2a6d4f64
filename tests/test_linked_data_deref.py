"""Dereferencing every IRI of the built graph, content negotiation and the 404 pattern (issue 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from markupsafe import escape
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from kg.namespace import DATASET_BASE, KIK

RDF_FORMATS = {  # key: (media type, rdflib parser)
    "ttl": ("text/turtle", "turtle"),
    "jsonld": ("application/ld+json", "json-ld"),
    "nt": ("application/n-triples", "nt"),
    "rdf": ("application/rdf+xml", "xml"),
    "trig": ("application/trig", "trig"),
}


@pytest.fixture(scope="module")
def session():
    with requests.Session() as http:
        yield http


@pytest.fixture(scope="module")
def data(dist_dir) -> Graph:
    graph = Graph()
    graph.parse(dist_dir / "kg.nt", format="nt")
    return graph


def local(live_server: str, iri: str) -> str:
    return live_server + iri[len(DATASET_BASE):]


def parse(body: bytes, parser: str) -> Graph:
    if parser == "trig":
        dataset = Dataset()
        dataset.parse(data=body, format="trig")
        graph = Graph()
        for s, p, o, _ in dataset.quads((None, None, None, None)):
            graph.add((s, p, o))
        return graph
    return Graph().parse(data=body, format=parser)


def subjects(data: Graph) -> list[URIRef]:
    return sorted({s for s in data.subjects() if isinstance(s, URIRef) and str(s).startswith(DATASET_BASE)}, key=str)


def comparable(graph: Graph, iri: URIRef) -> set:
    """Own statements without blank nodes; literals by value and language, because the embedded
    Oxigraph store writes decimals canonically ("0.10" → "0.1")."""
    return {(p, (o.value if o.value is not None else str(o), o.language) if isinstance(o, Literal) else o)
            for p, o in graph.predicate_objects(iri) if not isinstance(o, BNode)}


def german_labels(data: Graph, iri: URIRef) -> list[str]:
    labels = (SKOS.prefLabel, URIRef("http://www.w3.org/2000/01/rdf-schema#label"), URIRef("http://purl.org/dc/terms/title"))
    return [str(v) for p in labels for v in data.objects(iri, p) if isinstance(v, Literal) and v.language == "de"]


def test_every_subject_dereferences_in_rdf_and_html(live_server, session, data):
    """Each IRI once in one RDF format (rotating) and once as HTML; a sample in every format."""
    iris = subjects(data)
    assert len(iris) > 100
    keys = list(RDF_FORMATS)
    sample = set(iris[:: max(1, len(iris) // 8)])
    for index, iri in enumerate(iris):
        document = str(iri).split("#", 1)[0]
        url = local(live_server, document)
        for key in keys if iri in sample else [keys[index % len(keys)]]:
            media_type, parser = RDF_FORMATS[key]
            response = session.get(url, headers={"Accept": media_type})
            assert response.status_code == 200, (iri, key, response.text[:300])
            assert response.headers["Content-Type"].split(";")[0] == media_type
            graph = parse(response.content, parser)
            assert (iri, None, None) in graph, (iri, key)
            assert comparable(data, iri) <= comparable(graph, iri), (iri, key)
        page = session.get(url, headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
        assert page.status_code == 200, (iri, page.text[:300])
        assert page.headers["Content-Type"].startswith("text/html")
        names = german_labels(data, iri)
        assert str(iri).split("#")[0] in page.text or any(n in page.text or escape(n) in page.text for n in names), iri


def test_description_has_labels_of_neighbours_and_incoming_links(live_server, session, data):
    measure = next(iter(sorted(data.subjects(RDF.type, KIK.Measure), key=str)))
    graph = Graph().parse(data=session.get(local(live_server, str(measure)) + ".ttl").content, format="turtle")
    for challenge in data.objects(measure, KIK.addressesChallenge):
        assert (challenge, SKOS.prefLabel, None) in graph
    concept = next(iter(data.objects(measure, URIRef("http://purl.org/dc/terms/isPartOf"))))
    incoming = Graph().parse(data=session.get(local(live_server, str(concept)) + ".ttl").content, format="turtle")
    assert (measure, URIRef("http://purl.org/dc/terms/isPartOf"), concept) in incoming


def test_negotiation_headers_follow_one_pattern(client):
    response = client.get("/hamm/konzept/2018", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["Content-Location"].endswith("/hamm/konzept/2018.ttl")
    assert "Accept" in response.headers["Vary"]
    links = response.headers["Link"]
    for key, (media_type, _) in RDF_FORMATS.items():
        assert f'/hamm/konzept/2018.{key}>; rel="alternate"; type="{media_type}"' in links
    html = client.get("/hamm/konzept/2018", headers={"Accept": "text/html"})
    assert html.headers["Content-Location"].endswith("/hamm/konzept/2018.html")
    head = html.get_data(as_text=True).split("</head>")[0]
    turtle = [line for line in head.splitlines() if 'rel="alternate" type="text/turtle"' in line and "/hamm/konzept/2018" in line]
    assert turtle, head
    assert "/catalog" in head


@pytest.mark.parametrize("key", [*RDF_FORMATS, "html"])
def test_format_parameter_and_extension(client, key):
    by_parameter = client.get(f"/hamm/konzept/2018?format={key}", headers={"Accept": "text/html"})
    by_extension = client.get(f"/hamm/konzept/2018.{key}", headers={"Accept": "text/html"})
    expected = RDF_FORMATS[key][0] if key in RDF_FORMATS else "text/html"
    for response in (by_parameter, by_extension):
        assert response.status_code == 200
        assert response.mimetype == expected


@pytest.mark.parametrize("accept, expected", [
    ("application/rdf+xml;q=0.5, text/turtle", "text/turtle"),
    ("application/ld+json", "application/ld+json"),
    ("application/json", "application/ld+json"),
    ("*/*", "text/html"),
    ("text/html;q=0.1, application/n-triples", "application/n-triples"),
])
def test_accept_header_quality_values(client, accept, expected):
    assert client.get("/hamm/stadt", headers={"Accept": accept}).mimetype == expected


def test_bad_requests_are_4xx_with_a_message(client):
    unacceptable = client.get("/hamm/stadt", headers={"Accept": "image/png"})
    assert unacceptable.status_code == 406 and b"text/turtle" in unacceptable.data
    unknown_format = client.get("/hamm/stadt?format=docx")
    assert unknown_format.status_code == 400 and b"docx" in unknown_format.data
    for path in ("/hamm/gibt-es-nicht", "/hamm/massnahme/%22%3E%3Cscript%3E", "/hamm/a%20b", "/hamm/x{y}",
                 "/%00", "/hamm/100%25", "/hamm/%ff%fe", "/hamm/" + "x" * 5000, "/hamm/konzept/2018.exe", "/.well-known/nothing"):
        response = client.get(path, headers={"Accept": "text/plain"})
        assert response.status_code == 404, path
        assert b"Traceback" not in response.data and response.data.strip()


def test_unknown_iri_gets_a_helpful_page(client):
    page = client.get("/hamm/massnahme/gibt-es-nicht", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "https://w3id.org/kik/hamm/massnahme/gibt-es-nicht" in text
    assert "/hamm/massnahme/" in text.split("gibt-es-nicht", 2)[-1]  # suggestions near the IRI
    plain = client.get("/hamm/massnahme/gibt-es-nicht", headers={"Accept": "text/turtle"})
    assert plain.status_code == 404 and plain.mimetype == "text/plain"


def test_public_base_is_configuration_not_data(dist_dir):
    from server import create_app

    staging = create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_PUBLIC_BASE": "https://staging.example.org/kik/"})
    response = staging.test_client().get("/hamm/konzept/2018", headers={"Accept": "text/turtle"})
    assert response.headers["Content-Location"] == "https://staging.example.org/kik/hamm/konzept/2018.ttl"
    graph = Graph().parse(data=response.data, format="turtle")
    assert (URIRef(DATASET_BASE + "hamm/konzept/2018"), None, None) in graph
    assert "<https://staging.example.org/kik/hamm/konzept/2018.nt>" in response.headers["Link"]
    catalog = Graph().parse(data=staging.test_client().get("/catalog.ttl").data, format="turtle")
    downloads = {str(url) for url in catalog.objects(None, URIRef("http://www.w3.org/ns/dcat#downloadURL"))}
    assert downloads and all(url.startswith("https://staging.example.org/kik/download/") for url in downloads)


def test_the_ontology_version_iri_leads_to_the_ontology(client):
    ontology = Graph().parse(data=client.get("/ontology", headers={"Accept": "text/turtle"}).data, format="turtle")
    version = ontology.value(URIRef("https://w3id.org/kik/ontology"), URIRef("http://www.w3.org/2002/07/owl#versionIRI"))
    assert version is not None and str(version).startswith("https://w3id.org/kik/ontology/")
    path = "/" + str(version).removeprefix("https://w3id.org/kik/")
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/ontology")
    assert client.get(path + ".ttl").headers["Location"].endswith("/ontology.ttl")
    followed = client.get(path, headers={"Accept": "text/turtle"}, follow_redirects=True)
    assert followed.status_code == 200 and (None, URIRef("http://www.w3.org/2002/07/owl#versionIRI"), version) in Graph().parse(
        data=followed.data, format="turtle")
    assert client.get("/ontology/9.9.9").status_code == 404


def test_ontology_shapes_and_vocabularies_dereference(client):
    ontology = Graph().parse(data=client.get("/ontology", headers={"Accept": "text/turtle"}).data, format="turtle")
    assert (KIK.Measure, RDF.type, URIRef("http://www.w3.org/2002/07/owl#Class")) in ontology
    page = client.get("/ontology", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "kik:Measure" in page and "Maßnahme" in page and "measure" in page
    assert 'id="Measure"' in page  # hash IRIs of the terms land on their section
    shapes = Graph().parse(data=client.get("/shapes.ttl").data, format="turtle")
    assert (None, RDF.type, URIRef("http://www.w3.org/ns/shacl#NodeShape")) in shapes
    assert client.get("/shapes", headers={"Accept": "text/html"}).status_code == 200
    vocabulary = Graph().parse(data=client.get("/vocab/rolle/traeger.ttl").data, format="turtle")
    assert (URIRef(DATASET_BASE + "vocab/rolle/traeger"), SKOS.inScheme, URIRef(DATASET_BASE + "vocab/rolle")) in vocabulary
    assert client.get("/vocab/", headers={"Accept": "application/trig"}).status_code == 200


def test_validation_report_as_page_and_rdf(client):
    report = Graph().parse(data=client.get("/validation", headers={"Accept": "text/turtle"}).data, format="turtle")
    assert (None, RDF.type, URIRef("http://www.w3.org/ns/shacl#ValidationReport")) in report
    page = client.get("/validation", headers={"Accept": "text/html"})
    assert page.status_code == 200 and b"SHACL" in page.data


def test_context_is_served_and_is_ours(client, dist_dir):
    response = client.get("/context.jsonld")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    assert json.loads(response.data) == json.loads((dist_dir / "context.jsonld").read_text(encoding="utf-8"))


@pytest.fixture
def client(app):
    return app.test_client()


def test_repository_context_matches_build(dist_dir):
    repository = Path(__file__).resolve().parents[1]
    assert json.loads((repository / "ontology" / "context.jsonld").read_text(encoding="utf-8")) == json.loads(
        (dist_dir / "context.jsonld").read_text(encoding="utf-8"))


def test_integers_are_the_same_terms_in_dumps_sparql_and_descriptions(client, data):
    """Counts and grid positions are xsd:integer everywhere, so a triple fetched by dereferencing or
    SPARQL is the same term as in the dumps (Oxigraph would rewrite derived integer types)."""
    concept = URIRef(DATASET_BASE + "hamm/konzept/2018")
    in_dump = data.value(concept, KIK.declaredMeasureCount)
    assert in_dump == Literal(48) and in_dump.datatype == URIRef("http://www.w3.org/2001/XMLSchema#integer")
    described = Graph().parse(data=client.get("/hamm/konzept/2018", headers={"Accept": "text/turtle"}).data, format="turtle")
    assert described.value(concept, KIK.declaredMeasureCount) == in_dump
    answer = client.get("/sparql", query_string={"query": f"SELECT ?n WHERE {{ <{concept}> <{KIK.declaredMeasureCount}> ?n }}"},
                        headers={"Accept": "application/sparql-results+json"}).get_json()
    [row] = answer["results"]["bindings"]
    assert row["n"] == {"type": "literal", "value": "48", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}
