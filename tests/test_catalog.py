"""The DCAT-AP.de catalog: valid against DCAT-AP 3.0.0 + DCAT-AP.de 3.0 on every page, one dataset per
concept with what the sources state, fictional concepts only when asked for, and harvestable like a portal."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import tomllib
from pathlib import Path

import pytest
import requests
from pyshacl import validate
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SH

REPOSITORY = Path(__file__).resolve().parents[1]
STANDARDS = Path(__file__).resolve().parent / "standards"  # copies with origin and licence: standards/README.md
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
KIK = Namespace("https://w3id.org/kik/ontology#")
QB = Namespace("http://purl.org/linked-data/cube#")
FICTIONAL = "https://w3id.org/kik/fiktiv/"
CATALOG = "https://w3id.org/kik/catalog#"

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


def dcat_ap_de_violations(catalog: Graph, shapes: Graph) -> tuple[list, set[str], str]:
    """Violations and warning messages of the DCAT-AP.de validation, as GovData's validator runs it."""
    data = Graph()
    data += catalog
    data.parse(data=VOCABULARY_EXCERPT, format="turtle")
    conforms, report, text = validate(data, shacl_graph=shapes, inference="none", advanced=True)
    violations = list(report.subjects(SH.resultSeverity, SH.Violation))
    warnings = {str(m) for r in report.subjects(SH.resultSeverity, SH.Warning) for m in report.objects(r, SH.resultMessage)}
    return violations, warnings, text


def test_catalog_passes_dcat_ap_de_with_zero_violations(catalog, shapes):
    violations, warnings, text = dcat_ap_de_violations(catalog, shapes)
    assert violations == [], text
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


def source_facts(folder: Path) -> dict:
    """What a data folder states, read here from its own files (not through the build)."""
    settings = tomllib.loads((folder / "datensatz.toml").read_text(encoding="utf-8"))
    graph = Graph()
    for path in sorted(folder.glob("*.ttl")):
        graph.parse(path, format="turtle")
    concept = URIRef(settings["concept"])
    municipality = graph.value(concept, KIK.municipality)
    return {"id": settings["id"], "fictional": settings.get("fictional", False), "concept": concept,
            "municipality": municipality, "key": graph.value(municipality, KIK.municipalityKey),
            "places": {o for o in graph.objects(concept, DCTERMS.spatial) if isinstance(o, URIRef)}}


def test_one_dataset_per_concept_with_what_the_sources_state(catalog, app, dist_dir):
    hamm = source_facts(REPOSITORY / "data" / "hamm")
    dataset = URIRef(CATALOG + "konzept-hamm")
    assert (dataset, RDF.type, DCAT.Dataset) in catalog
    key = URIRef(f"http://dcat-ap.de/def/politicalGeocoding/municipalityKey/{hamm['key']}")
    assert str(hamm["key"]) == "05915000"
    assert (dataset, DCATDE.politicalGeocodingURI, key) in catalog
    assert (dataset, DCATDE.politicalGeocodingLevelURI, URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/municipality")) in catalog
    assert hamm["places"] == {URIRef("http://www.wikidata.org/entity/Q2880")}
    assert set(catalog.objects(dataset, DCTERMS.spatial)) == {key, *hamm["places"]}
    assert catalog.value(dataset, DCTERMS.creator) == hamm["municipality"]
    assert "Hamm" in str(catalog.value(hamm["municipality"], FOAF.name))
    publisher = catalog.value(dataset, DCTERMS.publisher)
    assert str(catalog.value(publisher, FOAF.name)) == app.config["KIK_PUBLISHER_NAME"]
    titles = {t.language: str(t) for t in catalog.objects(dataset, DCTERMS.title)}
    descriptions = {t.language: str(t) for t in catalog.objects(dataset, DCTERMS.description)}
    assert "Hamm" in titles["de"] and "Integrationskonzept" in titles["de"] and "fiktiv" not in titles["de"].lower()
    assert "Hamm" in descriptions["de"] and "Integrationskonzept" in descriptions["de"]
    assert (dataset, DCAT.theme, URIRef("http://publications.europa.eu/resource/authority/data-theme/SOCI")) in catalog
    assert catalog.value(dataset, DCTERMS.temporal) is not None
    licences = set(catalog.objects(None, DCTERMS.license))
    assert licences == {URIRef(app.config["KIK_LICENSE"])}
    manifest = json.loads((dist_dir / "build.json").read_text(encoding="utf-8"))
    sizes = {str(catalog.value(d, DCAT.downloadURL)).rsplit("/", 1)[1]: int(catalog.value(d, DCAT.byteSize))
             for d in catalog.objects(dataset, DCAT.distribution) if catalog.value(d, DCAT.downloadURL)}
    assert set(sizes) == {f"konzept-hamm{s}{gz}" for s in (".ttl", ".nt", ".jsonld") for gz in ("", ".gz")}
    assert sizes == {name: manifest["files"][name]["bytes"] for name in sizes}
    service = next(catalog.subjects(RDF.type, DCAT.DataService))
    assert str(catalog.value(service, DCAT.endpointURL)).endswith("/sparql")
    assert (service, DCAT.servesDataset, dataset) in catalog
    access = [d for d in catalog.objects(dataset, DCAT.distribution) if catalog.value(d, DCAT.accessService) == service]
    assert len(access) == 1 and str(catalog.value(access[0], DCAT.accessURL)).endswith("/sparql")


def test_whole_graph_and_key_figures_say_what_they_hold(catalog, dist_dir):
    whole, figures = URIRef(CATALOG + "kg"), URIRef(CATALOG + "kennzahlen")
    manifest = json.loads((dist_dir / "build.json").read_text(encoding="utf-8"))
    sizes = {str(catalog.value(d, DCAT.downloadURL)).rsplit("/", 1)[1]: int(catalog.value(d, DCAT.byteSize))
             for d in catalog.objects(whole, DCAT.distribution) if catalog.value(d, DCAT.downloadURL)}
    assert sizes == {name: manifest["files"][name]["bytes"] for name in sizes}
    assert {"kg.ttl", "kg.nt", "kg.rdf", "kg.jsonld", "kg.trig", "kg.nq", "kg.ttl.gz"} <= set(sizes)
    for dataset in (whole, figures):  # the union holds Musterstadt: the titles say so
        titles = {t.language: str(t) for t in catalog.objects(dataset, DCTERMS.title)}
        assert "Hamm" in titles["de"] and "fiktiv" in titles["de"] and "fictional" in titles["en"], titles
        assert "fiktiv" in str(catalog.value(dataset, DCTERMS.description))
    csv_files = [str(catalog.value(d, DCAT.downloadURL)) for d in catalog.objects(figures, DCAT.distribution)
                 if catalog.value(d, DCAT.mediaType) == URIRef("http://www.iana.org/assignments/media-types/text/csv")]
    assert [url.rsplit("/", 1)[1] for url in csv_files] == ["kennzahlen.csv"]


def test_key_figures_csv_has_every_observation(dist_dir):
    data = Graph().parse(dist_dir / "kg.nt", format="nt")
    observations = set(data.subjects(RDF.type, QB.Observation))
    rows = list(csv.DictReader(io.StringIO((dist_dir / "kennzahlen.csv").read_text(encoding="utf-8"))))
    assert {URIRef(row["beobachtung"]) for row in rows} == observations and len(rows) == len(observations)
    for row in rows:
        value = data.value(URIRef(row["beobachtung"]), URIRef("http://purl.org/linked-data/sdmx/2009/measure#obsValue"))
        assert Literal(row["wert"], datatype=value.datatype).toPython() == value.toPython()  # "0.10" = 0.1
        assert row["fiktiv"] == ("ja" if row["beobachtung"].startswith(FICTIONAL) else "nein")


def test_fictional_concepts_only_with_the_setting_and_then_marked(catalog, dist_dir):
    musterstadt = source_facts(REPOSITORY / "data" / "musterstadt")
    assert musterstadt["fictional"] is True
    assert (URIRef(CATALOG + "konzept-musterstadt"), None, None) not in catalog
    assert not {o for o in catalog.objects(None, DCTERMS.creator) if str(o).startswith(FICTIONAL)}
    from server import create_app

    shown = create_app({"KIK_DIST": str(dist_dir), "TESTING": True, "KIK_CATALOG_INCLUDE_FICTIONAL": "true"})
    graph = Graph().parse(data=shown.test_client().get("/catalog.ttl").data, format="turtle")
    dataset = URIRef(CATALOG + "konzept-musterstadt")
    titles = {t.language: str(t) for t in graph.objects(dataset, DCTERMS.title)}
    descriptions = {t.language: str(t) for t in graph.objects(dataset, DCTERMS.description)}
    assert titles["de"].startswith("FIKTIV") and titles["en"].startswith("FICTIONAL")
    assert "erfunden" in descriptions["de"] and "invented" in descriptions["en"]
    assert graph.value(dataset, DCTERMS.creator) == musterstadt["municipality"]
    assert graph.value(dataset, DCATDE.politicalGeocodingURI) is None  # the data states no key
    assert set(graph.objects(dataset, DCTERMS.spatial)) == {musterstadt["municipality"]}


def test_hamm_dumps_hold_no_fictional_triple(dist_dir):
    hamm = source_facts(REPOSITORY / "data" / "hamm")
    for name, fmt in (("konzept-hamm.ttl", "turtle"), ("konzept-hamm.nt", "nt"), ("konzept-hamm.jsonld", "json-ld")):
        graph = Graph().parse(dist_dir / name, format=fmt)
        assert (hamm["concept"], RDF.type, KIK.IntegrationConcept) in graph
        assert not [t for t in graph if any(str(term).startswith(FICTIONAL) for term in t)], name
        packed = Graph().parse(data=gzip.decompress((dist_dir / f"{name}.gz").read_bytes()), format=fmt)
        assert len(packed) == len(graph)


@pytest.mark.parametrize("page, status", [("0", 400), ("-1", 400), ("zwei", 400), ("1.5", 400), ("2", 404), ("999999", 404)])
def test_bad_page_numbers_get_a_4xx_with_a_message(app, page, status):
    response = app.test_client().get(f"/catalog?page={page}", headers={"Accept": "text/turtle"})
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert "page" in text and "Seite" in text


@pytest.fixture(scope="module")
def paged(generated_build):
    """The catalog of Hamm, Musterstadt and 150 generated municipalities with the fictional ones listed."""
    from server import create_app

    dist = generated_build(150)
    return create_app({"KIK_DIST": str(dist), "TESTING": True, "KIK_CATALOG_INCLUDE_FICTIONAL": True})


def catalog_pages(client, first: str = "/catalog.ttl") -> list[Graph]:
    """Every page, following hydra:nextPage from the first to the last."""
    pages, url = [], first
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        graph = Graph().parse(data=response.data, format="turtle")
        pages.append(graph)
        following = next(graph.objects(None, HYDRA.nextPage), None)
        url = "/" + str(following).split("/", 3)[3] if following is not None else None
        assert len(pages) < 100
    return pages


def test_every_page_of_the_paged_catalog_passes_dcat_ap_de(paged, shapes):
    pages = catalog_pages(paged.test_client())
    total = 2 + 2 + 150  # whole graph, key figures, Hamm, Musterstadt, the generated ones
    assert len(pages) == math.ceil(total / 100) == 2
    seen = []
    for number, graph in enumerate(pages, 1):
        collection = next(graph.subjects(RDF.type, HYDRA.PagedCollection))
        assert int(graph.value(collection, HYDRA.totalItems)) == total
        assert int(graph.value(collection, HYDRA.itemsPerPage)) == 100
        assert graph.value(collection, HYDRA.lastPage) is not None and graph.value(collection, HYDRA.firstPage) is not None
        datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
        assert len(datasets) == (100 if number == 1 else total - 100)
        seen += datasets
        violations, warnings, text = dcat_ap_de_violations(graph, shapes)
        assert violations == [], f"page {number}: {text}"
    assert len(set(seen)) == total
    page = paged.test_client().get("/catalog?page=2", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'rel="prev"' in page and 'rel="next"' not in page and "konzept-gen-0150.ttl" in page


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
    manifest = json.loads((dist_dir / "build.json").read_text(encoding="utf-8"))
    expected = {"kg": stats["triples"], "konzept-hamm": manifest["graphs"]["https://w3id.org/kik/hamm/"]}
    with requests.Session() as http:
        start = http.get(live_server + "catalog", headers={"Accept": "application/ld+json"})
        assert start.status_code == 200
        catalog = Graph().parse(data=start.content, format="json-ld")
        urls = {str(u) for p in (DCAT.downloadURL, DCAT.accessURL) for u in catalog.objects(None, p)}
        assert len(urls) >= 20
        for url in sorted(urls):
            response = http.get(url)
            assert response.status_code == 200, url
            if url.endswith("/sparql"):
                continue
            body = gzip.decompress(response.content) if url.endswith(".gz") else response.content
            checksum = catalog.value(next(catalog.subjects(DCAT.downloadURL, URIRef(url))), SPDX.checksum)
            assert hashlib.sha256(response.content).hexdigest() == str(catalog.value(checksum, SPDX.checksumValue))
            name = url.rsplit("/", 1)[1].removesuffix(".gz")
            stem, suffix = name.rsplit(".", 1)
            if suffix == "csv":
                assert body.decode("utf-8").startswith("konzept,")
                continue
            assert triples_in(body, "." + suffix) == expected[stem], url


def test_catalog_page_and_links(app):
    client = app.test_client()
    page = client.get("/catalog", headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "/download/kg.ttl" in text and "SPARQL" in text
    assert 'href="/catalog' in text.split("</head>")[0]  # every page's head links the catalog

