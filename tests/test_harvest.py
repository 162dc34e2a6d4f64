"""A portal harvests /catalog with CKAN's own DCAT parser, as GovData does: ckanext-dcat's RDFParser
with the ``euro_dcat_ap_3`` profile, in this process (``ckan.common.config`` with a site URL, no
database), over real HTTP, page after page, from a build of Hamm, Musterstadt and 150 generated
municipalities. What it must find is read from the data folders themselves (datensatz.toml)."""

from __future__ import annotations

import gzip
import math
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, URIRef
from tests.serving import serving

from server import create_app

REPOSITORY = Path(__file__).resolve().parents[1]
GENERATED = 150
PAGE_SIZE = 100  # the default of KIK_CATALOG_PAGE_SIZE
FICTIONAL = "https://w3id.org/kik/fiktiv/"
CATALOG = "https://w3id.org/kik/catalog#"
WHOLE = 2  # the whole graph and the key figures, beside one dataset per concept
PARSERS = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld"}


@pytest.fixture(scope="module")
def rdf_parser():
    """ckanext-dcat's RDFParser class, set up as a CKAN site would (German first, as GovData)."""
    from ckan.common import config

    config["ckan.site_url"] = "http://portal.test"
    config["ckan.locale_default"] = "de"
    from ckanext.dcat.processors import RDFParser

    return RDFParser


@pytest.fixture(scope="module")
def dist(generated_build) -> Path:
    return generated_build(GENERATED)


@pytest.fixture(scope="module")
def folders(dist) -> list[dict]:
    """Every data folder of the build with what its datensatz.toml says."""
    paths = [REPOSITORY / "data" / "hamm", REPOSITORY / "data" / "musterstadt",
             *sorted((dist.parent / "data").glob("gen-*"))]
    found = [tomllib.loads((path / "datensatz.toml").read_text(encoding="utf-8")) for path in paths]
    assert len(found) == 2 + GENERATED
    return found


def serve(dist: Path, **settings) -> Iterator[str]:
    app = create_app({"KIK_DIST": str(dist), "TESTING": True, **settings})
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def with_fictional(dist) -> Iterator[str]:
    yield from serve(dist, KIK_CATALOG_INCLUDE_FICTIONAL=True)


@pytest.fixture(scope="module")
def by_default(dist) -> Iterator[str]:
    yield from serve(dist)


def harvest(base: str, rdf_parser) -> list[list[dict]]:
    """The datasets of every page, following the parser's next_page() (hydra) to the end."""
    pages, url, seen = [], base + "catalog", set()
    while url:
        assert url not in seen, f"the paging loops back to {url}"
        seen.add(url)
        response = requests.get(url, headers={"Accept": "text/turtle"}, timeout=120)
        assert response.status_code == 200, url
        parser = rdf_parser(profiles=["euro_dcat_ap_3"])
        parser.parse(response.content, _format="text/turtle")
        pages.append(list(parser.datasets()))
        url = parser.next_page()
    return pages


def extra(dataset: dict, key: str) -> str | None:
    return next((item["value"] for item in dataset.get("extras", []) if item["key"] == key), dataset.get(key))


def by_uri(datasets: list[dict]) -> dict[str, dict]:
    return {extra(dataset, "uri"): dataset for dataset in datasets}


def test_a_portal_harvests_every_concept_page_by_page(with_fictional, folders, rdf_parser):
    pages = harvest(with_fictional, rdf_parser)
    total = WHOLE + len(folders)
    assert len(pages) == math.ceil(total / PAGE_SIZE) == 2
    assert [len(page) for page in pages] == [PAGE_SIZE, total - PAGE_SIZE]
    datasets = by_uri([dataset for page in pages for dataset in page])
    assert len(datasets) == total
    assert {CATALOG + f"konzept-{folder['id']}" for folder in folders} | {CATALOG + "kg", CATALOG + "kennzahlen"} == set(datasets)
    urls = set()
    for uri, dataset in datasets.items():
        assert dataset["title"].strip(), uri
        assert extra(dataset, "spatial_uri") or extra(dataset, "spatial"), f"{uri} has no spatial coverage"
        assert dataset["resources"], uri
        urls |= {resource["url"] for resource in dataset["resources"]}
    for folder in folders:
        dataset = datasets[CATALOG + f"konzept-{folder['id']}"]
        if folder["fictional"]:
            assert dataset["title"].startswith(("FIKTIV", "FICTIONAL")), dataset["title"]
            assert "erfunden" in dataset["notes"] or "invented" in dataset["notes"]
        else:
            assert "FIKTIV" not in dataset["title"] and "FICTIONAL" not in dataset["title"]
    with requests.Session() as http:
        for url in sorted(urls):
            with http.get(url, stream=True, timeout=120) as response:
                assert response.status_code == 200, url


def test_by_default_fictional_concepts_stay_out(by_default, folders, rdf_parser):
    pages = harvest(by_default, rdf_parser)
    real = [folder for folder in folders if not folder.get("fictional", False)]
    assert [folder["id"] for folder in real] == ["hamm"]
    datasets = by_uri([dataset for page in pages for dataset in page])
    assert len(pages) == 1
    assert set(datasets) == {CATALOG + "kg", CATALOG + "kennzahlen"} | {CATALOG + f"konzept-{f['id']}" for f in real}
    for uri in (CATALOG + "kg", CATALOG + "kennzahlen"):  # they hold the fictional data too, and say so
        assert "fiktiv" in datasets[uri]["title"] or "fictional" in datasets[uri]["title"], datasets[uri]["title"]


def test_hamms_dumps_hold_no_fictional_triple(by_default, rdf_parser):
    settings = tomllib.loads((REPOSITORY / "data" / "hamm" / "datensatz.toml").read_text(encoding="utf-8"))
    hamm = by_uri([d for page in harvest(by_default, rdf_parser) for d in page])[CATALOG + "konzept-hamm"]
    assert extra(hamm, "spatial_uri") in ("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05915000",
                                          "http://www.wikidata.org/entity/Q2880")
    downloads = [r["url"] for r in hamm["resources"] if "/download/" in r["url"]]
    assert len(downloads) == 6
    for url in downloads:
        body = requests.get(url, timeout=60).content
        body = gzip.decompress(body) if url.endswith(".gz") else body
        suffix = "." + url.removesuffix(".gz").rsplit(".", 1)[1]
        graph = Graph().parse(data=body, format=PARSERS[suffix])
        assert (URIRef(settings["concept"]), None, None) in graph, url
        fictional = [triple for triple in graph if any(str(term).startswith(FICTIONAL) for term in triple)]
        assert fictional == [], url
