"""The DCAT-AP.de catalog: valid against DCAT-AP 3.0.0 + DCAT-AP.de 3.0, and harvestable like a portal."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
import requests
from pyshacl import validate
from rdflib import Dataset, Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SH

STANDARDS = Path(__file__).resolve().parent / "standards"  # copies with origin and licence: standards/README.md
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
SPDX = Namespace("http://spdx.org/rdf/terms#")

VOCABULARY_EXCERPT = (STANDARDS / "vocabulary-excerpt.ttl").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalog(app) -> Graph:
    response = app.test_client().get("/catalog", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    return Graph().parse(data=response.data, format="turtle")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    graph = Graph()
    graph.parse(STANDARDS / "dcat-ap" / "3.0.0" / "dcat-ap-SHACL.ttl", format="turtle")
    files = sorted((STANDARDS / "dcat-ap-de" / "v3.0").glob("*.ttl"))
    assert len(files) == 5
    for path in files:
        graph.parse(path, format="turtle")
    return graph


def test_catalog_passes_dcat_ap_de_with_zero_violations(catalog, shapes):
    data = Graph()
    data += catalog
    data.parse(data=VOCABULARY_EXCERPT, format="turtle")
    conforms, report, text = validate(data, shacl_graph=shapes, inference="none", advanced=True)
    violations = list(report.subjects(SH.resultSeverity, SH.Violation))
    assert violations == [], text
    warnings = {str(m) for r in report.subjects(SH.resultSeverity, SH.Warning) for m in report.objects(r, SH.resultMessage)}
    assert all("politicalGeocodingURI" in w for w in warnings), warnings  # only the deprecation DCAT-AP.de 2.0 needs


def test_validation_detects_a_broken_catalog(catalog, shapes):
    """The same check fails when a mandatory property is missing: the test can fail."""
    data = Graph()
    data += catalog
    data.parse(data=VOCABULARY_EXCERPT, format="turtle")
    for dataset in data.subjects(RDF.type, DCAT.Dataset):
        data.remove((dataset, DCTERMS.title, None))
    conforms, report, _ = validate(data, shacl_graph=shapes, inference="none", advanced=True)
    assert list(report.subjects(SH.resultSeverity, SH.Violation))


def test_catalog_content_comes_from_configuration_data_and_build(catalog, app, dist_dir):
    dataset = next(catalog.subjects(RDF.type, DCAT.Dataset))
    assert (dataset, DCATDE.politicalGeocodingURI, URIRef("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05915000")) in catalog
    assert (dataset, DCATDE.politicalGeocodingLevelURI, URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/municipality")) in catalog
    assert (dataset, DCTERMS.spatial, URIRef("http://www.wikidata.org/entity/Q2880")) in catalog
    assert (dataset, DCAT.theme, URIRef("http://publications.europa.eu/resource/authority/data-theme/SOCI")) in catalog
    assert catalog.value(dataset, DCTERMS.temporal) is not None
    licences = set(catalog.objects(None, DCTERMS.license))
    assert licences == {URIRef(app.config["KIK_LICENSE"])}
    service = next(catalog.subjects(RDF.type, DCAT.DataService))
    assert str(catalog.value(service, DCAT.endpointURL)).endswith("/sparql")
    manifest = json.loads((dist_dir / "build.json").read_text(encoding="utf-8"))
    sizes = {str(catalog.value(d, DCAT.downloadURL)).rsplit("/", 1)[1]: int(catalog.value(d, DCAT.byteSize))
             for d in catalog.objects(dataset, DCAT.distribution)}
    assert sizes == {name: manifest["files"][name]["bytes"] for name in sizes}
    assert {"kg.ttl", "kg.nt", "kg.rdf", "kg.jsonld", "kg.trig", "kg.nq", "kg.ttl.gz"} <= set(sizes)


def test_configured_publisher_appears(dist_dir):
    from server import create_app

    other = create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_PUBLISHER_NAME": "Beispielbetreiber",
                        "KIK_THEMES": "EDUC"})
    text = other.test_client().get("/catalog.ttl").get_data(as_text=True)
    assert "Beispielbetreiber" in text and "data-theme/EDUC" in text and "data-theme/SOCI" not in text


def test_placeholder_contact_is_warned_about_and_a_real_one_is_published(dist_dir, caplog):
    from server import create_app

    with caplog.at_level("WARNING", logger="server"):
        create_app({"KIK_DIST": str(dist_dir)})
    assert "KIK_CONTACT_EMAIL is the placeholder" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="server"):
        configured = create_app({"KIK_DIST": str(dist_dir), "KIK_CONTACT_EMAIL": "mailto:opendata@example.net"})
    assert "placeholder" not in caplog.text
    text = configured.test_client().get("/catalog.ttl").get_data(as_text=True)
    assert "mailto:opendata@example.net" in text and "kontakt@example.org" not in text


PARSERS = {".ttl": "turtle", ".nt": "nt", ".rdf": "xml", ".jsonld": "json-ld", ".trig": "trig", ".nq": "nquads"}


def triples_in(body: bytes, suffix: str) -> int:
    """Distinct triples of a dump (the union of its graphs for TriG and N-Quads)."""
    if suffix in (".trig", ".nq"):
        dataset = Dataset()
        dataset.parse(data=body, format=PARSERS[suffix])
        return len({(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))})
    return len(Graph().parse(data=body, format=PARSERS[suffix]))


def test_harvest_like_a_portal(live_server, dist_dir):
    """From /catalog, follow every downloadURL and accessURL, parse each dump, count its triples."""
    stats = json.loads((dist_dir / "stats.json").read_text(encoding="utf-8"))
    with requests.Session() as http:
        start = http.get(live_server + "catalog", headers={"Accept": "application/ld+json"})
        assert start.status_code == 200
        catalog = Graph().parse(data=start.content, format="json-ld")
        urls = {str(u) for p in (DCAT.downloadURL, DCAT.accessURL) for u in catalog.objects(None, p)}
        assert len(urls) >= 12
        for url in sorted(urls):
            response = http.get(url)
            assert response.status_code == 200, url
            body = gzip.decompress(response.content) if url.endswith(".gz") else response.content
            suffix = "." + url.removesuffix(".gz").rsplit(".", 1)[1]
            assert triples_in(body, suffix) == stats["triples"], url
            checksum = catalog.value(next(catalog.subjects(DCAT.downloadURL, URIRef(url))), SPDX.checksum)
            assert hashlib.sha256(response.content).hexdigest() == str(catalog.value(checksum, SPDX.checksumValue))


def test_catalog_page_and_links(app):
    client = app.test_client()
    page = client.get("/catalog", headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "/download/kg.ttl" in text and "SPARQL" in text
    assert 'href="/catalog' in text.split("</head>")[0]  # every page's head links the catalog

